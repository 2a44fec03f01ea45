/**
 * Junction's user list (`GET /v2/user?offset&limit`): an API key's live users, newest first, by
 * offset — the one place tokendesk pages by OFFSET, because Junction's clients do. The walk uses
 * `users_list_idx` (environment, region, created_at desc, id desc where not deleted), so a page
 * costs the offset's index entries and no sort; tokendesk's own search (`/v2/users`) pages by key.
 *
 * `total` is exact up to TOTAL_EXACT_UP_TO users; above that it is the planner's estimate (an exact
 * count would read every row of a large team on each page), and `totalIsEstimate` says so.
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { rowOf } from "@/db/rows";
import { users } from "@/db/schema";
import { assertKeyScope } from "@/lib/api-keys/scopes";
import type { Actor } from "@/lib/context";
import { ENVIRONMENTS } from "@/lib/environments";
import { DomainError } from "@/lib/errors";
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
  const [counted] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from (select 1 from users where environment = ${environment} and region = ${region} and deleted_at is null
        limit ${TOTAL_EXACT_UP_TO + 1}) capped`,
  );
  let total = Number(counted!.n);
  let totalIsEstimate = false;
  if (total > TOTAL_EXACT_UP_TO) {
    totalIsEstimate = true;
    total = Math.max(total, await estimatedCount(db, environment, region));
  }
  return { users: rows.map((r) => toUserView(rowOf(users, r))), total, totalIsEstimate, offset: opts.offset, limit: opts.limit };
}

/**
 * The planner's row estimate for the key's live users. EXPLAIN takes no bind parameters, so the
 * two values are inlined — only after checking they are an environment name and a region code.
 */
async function estimatedCount(db: Executor, environment: string, region: string): Promise<number> {
  if (!(ENVIRONMENTS as readonly string[]).includes(environment) || !/^[a-z]{2,8}$/.test(region)) return 0;
  const [plan] = await queryRows<{ "QUERY PLAN": unknown }>(
    db,
    sql.raw(`explain (format json) select 1 from users where environment = '${environment}' and region = '${region}' and deleted_at is null`),
  );
  const parsed = typeof plan!["QUERY PLAN"] === "string" ? JSON.parse(plan!["QUERY PLAN"]) : plan!["QUERY PLAN"];
  return Math.round(Number((parsed as { Plan: { "Plan Rows": number } }[])[0]?.Plan["Plan Rows"] ?? 0));
}
