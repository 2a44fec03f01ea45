/**
 * Junction's user list (`GET /v2/user?offset&limit`): an API key's live users, newest first, by
 * offset — the one place tokendesk pages by OFFSET, because Junction's clients do. The walk uses
 * `users_list_idx` (environment, region, created_at desc, id desc where not deleted), so a page
 * costs the offset's index entries and no sort; tokendesk's own search (`/v2/users`) pages by key.
 *
 * `total` is exact up to TOTAL_EXACT_UP_TO users; above that it is the planner's estimate (an exact
 * count would read every row of a large team on each page), and `totalIsEstimate` says so. The
 * console's users page counts the same way (`countUsers`).
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { rowOf } from "@/db/rows";
import { users } from "@/db/schema";
import { assertKeyScope } from "@/lib/api-keys/scopes";
import type { Actor } from "@/lib/context";
import { ENVIRONMENTS, type Environment } from "@/lib/environments";
import { DomainError } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";
import { toUserView, type UserView } from "./types";

export const TOTAL_EXACT_UP_TO = 10_000;
export const MAX_LIST_LIMIT = 200;
export const DEFAULT_LIST_LIMIT = 100;

export interface UserList {
  users: UserView[];
  total: number;
  totalIsEstimate: boolean;
  offset: number;
  limit: number;
}

export async function listUsers(db: Executor, actor: Actor, opts: { offset: number; limit: number }): Promise<UserList> {
  if (actor.type !== "api_key") throw new DomainError("forbidden", "Listing users needs an API key.");
  assertKeyScope(actor, "users:read");
  const { environment, region } = actor;
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select * from users where environment = ${environment} and region = ${region} and deleted_at is null
        order by created_at desc, id desc offset ${opts.offset} limit ${opts.limit}`,
  );
  const { total, isEstimate: totalIsEstimate } = await countLive(db, { environments: [environment as Environment], region });
  return { users: rows.map((r) => toUserView(rowOf(users, r))), total, totalIsEstimate, offset: opts.offset, limit: opts.limit };
}

export interface UserCount {
  /** Exact up to TOTAL_EXACT_UP_TO users, else the planner's estimate. */
  total: number;
  /** Say "about" before `total`. */
  isEstimate: boolean;
}

/**
 * How many live users staff may see, for the console's users page: environments the role sees
 * (optionally one), optionally only active or only disabled ones. Cheap at any size: see `countLive`.
 */
export async function countUsers(
  db: Executor,
  actor: Actor,
  filter: { environment?: Environment | null; status?: "active" | "disabled" | null } = {},
): Promise<UserCount> {
  assertStaffCan(actor, "users:read", filter.environment ?? null);
  let environments: Environment[] = actor.type === "staff" ? visibleEnvironments(actor.role) : [...ENVIRONMENTS];
  if (filter.environment) environments = environments.filter((e) => e === filter.environment);
  return countLive(db, { environments, status: filter.status ?? null });
}

/**
 * Live users in `environments` (and `region`, and of `status`): counted exactly while the range
 * (environments and region, without the status) holds at most TOTAL_EXACT_UP_TO users — a count
 * that stops reading at TOTAL_EXACT_UP_TO + 1 index entries, then the status counted among at most
 * that many — and above it the planner's estimate (EXPLAIN, no rows read): an exact count at 1M
 * users would read every row on each page view.
 */
async function countLive(
  db: Executor,
  filter: { environments: Environment[]; region?: string | null; status?: "active" | "disabled" | null },
): Promise<UserCount> {
  const environments = filter.environments.filter((e) => (ENVIRONMENTS as readonly string[]).includes(e));
  if (!environments.length) return { total: 0, isEstimate: false };
  const region = filter.region ?? null;
  if (region !== null && !/^[a-z]{2,8}$/.test(region)) return { total: 0, isEstimate: false };
  const range = sql.join(
    [
      sql`deleted_at is null`,
      sql`environment in (${sql.join(
        environments.map((e) => sql`${e}`),
        sql`, `,
      )})`,
      ...(region ? [sql`region = ${region}`] : []),
    ],
    sql` and `,
  );
  const status = filter.status === "active" ? sql`and disabled_at is null` : filter.status === "disabled" ? sql`and disabled_at is not null` : sql``;
  // Without a status the capped walk can be index-only (`users_list_idx` is partial on deleted_at).
  const [counted] = await queryRows<{ n: number; s: number }>(
    db,
    filter.status
      ? sql`select count(*)::int as n, count(*) filter (where true ${status})::int as s
            from (select disabled_at from users where ${range} limit ${TOTAL_EXACT_UP_TO + 1}) capped`
      : sql`select count(*)::int as n, count(*)::int as s from (select 1 from users where ${range} limit ${TOTAL_EXACT_UP_TO + 1}) capped`,
  );
  const inRange = Number(counted!.n);
  if (inRange <= TOTAL_EXACT_UP_TO) return { total: Number(counted!.s), isEstimate: false };
  // Values are inlined (EXPLAIN takes no bind parameters): environment names and a region code, checked above.
  const where = [
    "deleted_at is null",
    `environment in (${environments.map((e) => `'${e}'`).join(", ")})`,
    ...(region ? [`region = '${region}'`] : []),
    ...(filter.status === "active" ? ["disabled_at is null"] : filter.status === "disabled" ? ["disabled_at is not null"] : []),
  ].join(" and ");
  const estimate = await plannedRows(db, `select 1 from users where ${where}`);
  // Without a status filter the range is known to be larger than the exact limit.
  return { total: filter.status ? estimate : Math.max(inRange, estimate), isEstimate: true };
}

/** The planner's row estimate for a query (EXPLAIN reads no rows). */
async function plannedRows(db: Executor, query: string): Promise<number> {
  const [plan] = await queryRows<{ "QUERY PLAN": unknown }>(db, sql.raw(`explain (format json) ${query}`));
  const parsed = typeof plan!["QUERY PLAN"] === "string" ? JSON.parse(plan!["QUERY PLAN"]) : plan!["QUERY PLAN"];
  return Math.round(Number((parsed as { Plan: { "Plan Rows": number } }[])[0]?.Plan["Plan Rows"] ?? 0));
}
