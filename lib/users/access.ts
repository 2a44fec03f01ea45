/**
 * Who may see or act on which user. One place for the three kinds of caller:
 * - an API key sees only users of its own environment and region; any other user answers 404 as if
 *   absent, so a sandbox key cannot probe production ids;
 * - staff are checked with `assertStaffCan(actor, permission, user.environment)` (qa: sandbox only);
 * - an SDK user (bearer access token) sees only itself; another id is 403.
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { columnsOf, rowOf } from "@/db/rows";
import { type User, users } from "@/db/schema";
import { type ApiKeyScope, assertKeyScope } from "@/lib/api-keys/scopes";
import type { Actor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { SETTINGS_COLUMNS, type Settings, settingsOfRow } from "@/lib/settings/row";
import { assertStaffCan } from "@/lib/staff/authorize";
import type { Permission } from "@/lib/staff/rbac";

export const userNotFound = () => new DomainError("user_not_found", "No such user.");

export interface LoadUserOptions {
  /** Staff permission the operation needs (checked against the user's environment). */
  permission: Permission;
  /** API-key scope the operation needs. */
  scope: ApiKeyScope;
  /** Staff may look at a deleted user's page; nobody may act on one. */
  allowDeleted?: boolean;
  /** Lock the row (inside a transaction) so a concurrent disable/delete waits for us. */
  forUpdate?: boolean;
}

export async function loadUserFor(db: Executor, actor: Actor, userId: string, opts: LoadUserOptions): Promise<User> {
  return (await loadUser(db, actor, userId, opts, false)).user;
}

/**
 * `loadUserFor` plus the settings of the user's environment, read in the same statement: the token
 * endpoints need both, and a round trip less is CPU less on both sides of the connection.
 */
export async function loadUserWithSettingsFor(db: Executor, actor: Actor, userId: string, opts: LoadUserOptions): Promise<{ user: User; settings: Settings }> {
  const { user, settings } = await loadUser(db, actor, userId, opts, true);
  return { user, settings: settings! };
}

async function loadUser(db: Executor, actor: Actor, userId: string, opts: LoadUserOptions, withSettings: boolean) {
  if (actor.type === "api_key") assertKeyScope(actor, opts.scope);
  else if (actor.type === "user") {
    if (actor.id !== userId) throw new DomainError("forbidden", "An access token may only read its own user.");
  } else if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  if (!isUuid(userId)) throw userNotFound();
  // An `sql` template, not the query builder: every token endpoint starts here (db/rows.ts).
  const lock = opts.forUpdate ? sql`for update of u` : sql``;
  const [raw] = withSettings
    ? await queryRows<Record<string, unknown>>(
        db,
        sql`select ${columnsOf(users, "u")}, ${SETTINGS_COLUMNS} from users u left join environment_settings s on s.environment = u.environment
            where u.id = ${userId}::uuid ${lock}`,
        { prepare: true },
      )
    : await queryRows<Record<string, unknown>>(db, sql`select ${columnsOf(users, "u")} from users u where u.id = ${userId}::uuid ${lock}`, { prepare: true });
  if (!raw) throw userNotFound();
  const row = rowOf(users, raw);
  const settings = withSettings ? settingsOfRow(row.environment, raw) : null;
  if (actor.type === "api_key") {
    if (row.environment !== actor.environment || row.region !== actor.region || row.deletedAt) throw userNotFound();
    return { user: row, settings };
  }
  if (actor.type === "user") {
    if (row.deletedAt) throw userNotFound();
    return { user: row, settings };
  }
  assertStaffCan(actor, opts.permission, row.environment);
  if (row.deletedAt && !opts.allowDeleted) throw userNotFound();
  return { user: row, settings };
}
