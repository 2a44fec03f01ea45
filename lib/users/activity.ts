/**
 * When users last signed in and were last active, for the console's users table, derived from
 * their SDK sessions — no column on `users` to keep up to date on the token hot path:
 * - last sign-in: the newest session's start (a sign-in token exchanged, or a migration);
 * - last active: the latest start or refresh of any of their sessions. An app refreshes before its
 *   access token expires, so this is within one access-token lifetime of the app's last API call.
 *
 * One query for a page of users: `sdk_sessions_user_idx` (user_id, created_at desc) finds each
 * user's sessions; a user has a few (one per installation and sign-in), so the page costs a few
 * index probes per row whatever the size of the tables.
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { dateOf } from "@/db/rows";
import type { Actor } from "@/lib/context";
import { isUuid } from "@/lib/ids";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";

export interface UserActivity {
  lastSignInAt: Date | null;
  lastActiveAt: Date | null;
}

/** Staff (users:read): the activity of each of `userIds` they may see; users never signed in are absent. */
export async function usersActivity(db: Executor, actor: Actor, userIds: readonly string[]): Promise<Map<string, UserActivity>> {
  assertStaffCan(actor, "users:read");
  const ids = [...new Set(userIds.filter(isUuid))];
  const out = new Map<string, UserActivity>();
  if (!ids.length) return out;
  const environments = actor.type === "staff" ? visibleEnvironments(actor.role) : null;
  const rows = await queryRows<{ user_id: string; last_sign_in: unknown; last_active: unknown }>(
    db,
    sql`select user_id, max(created_at) as last_sign_in, max(greatest(created_at, last_refresh_at)) as last_active
        from sdk_sessions
        where user_id in (${sql.join(
          ids.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})
        ${
          environments
            ? sql`and environment in (${sql.join(
                environments.map((e) => sql`${e}`),
                sql`, `,
              )})`
            : sql``
        }
        group by user_id`,
  );
  for (const r of rows) out.set(String(r.user_id), { lastSignInAt: dateOf(r.last_sign_in), lastActiveAt: dateOf(r.last_active) });
  return out;
}
