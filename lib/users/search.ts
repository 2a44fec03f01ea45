/**
 * User lookup: one query string that matches a user id exactly, and client user id, email or name
 * exactly, by prefix or by substring; filters; keyset pages on (created_at desc, id desc).
 *
 * Index use: prefix matches hit the `lower(x) text_pattern_ops` indexes, substrings the trigram GIN
 * index on the concatenated text. Both need the LIKE pattern to be known when the plan is made: a
 * generic prepared plan (postgres.js prepares statements) would be built for an unknown `$1` and
 * fall back to a sequential scan. So the pattern is inlined as a SQL literal — escaped for LIKE and
 * for quoting below — while everything else stays a bound parameter.
 *
 * Rare and common terms need opposite plans. Asked for "newest first, 50 rows", the planner likes
 * to walk `users_created_idx` and filter, hoping to meet 50 matches early: for a common term that is
 * the fastest plan there is, for a term matching a handful of users in a million it reads the whole
 * index (621 ms p95 at 1M users). Without the LIMIT the planner estimates rare terms well and takes
 * the indexes' bitmap (btree prefixes, trigram GIN, primary key), which in turn is slow for a term
 * that matches 10% of the table. So a search first looks at the newest SEARCH_PROBE rows of its
 * range (a thousand index entries, ~1 ms):
 * - a full page of matches there is the answer (every match outside is older than every match in);
 * - otherwise up to BITMAP_CAP matches come from the indexes' bitmap (in a materialized CTE, so no
 *   LIMIT can tempt the planner into the walk) and are sorted: the answer for a rare term;
 * - more than that, and the term is common after all: the ordered walk finds its page quickly.
 * Same rows, same order, whichever path answers. A whole UUID is matched as a user id or as a
 * prefix, not as a substring: 34 trigrams of hex cost the GIN index more than the rest together.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { rowOf } from "@/db/rows";
import { users } from "@/db/schema";
import { assertKeyScope } from "@/lib/api-keys/scopes";
import type { Actor } from "@/lib/context";
import { ENVIRONMENTS, type Environment } from "@/lib/environments";
import { DomainError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";
import { toUserView, type UserView } from "./types";

export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;
/** How many of the newest rows a search looks at first, and how many matches make a term common (see the header). */
const SEARCH_PROBE = 1000;
const BITMAP_CAP = 20_000;

export interface SearchUsersInput {
  q?: string | null;
  environment?: Environment | null;
  status?: "active" | "disabled" | null;
  cursor?: string | null;
  limit?: number | null;
}

export interface UserPage {
  users: UserView[];
  nextCursor: string | null;
}

/** A LIKE pattern as a safe SQL literal: LIKE metacharacters escaped with `\`, quotes doubled. */
function likeLiteral(pattern: string): SQL {
  if (pattern.includes("\0")) throw new DomainError("validation_failed", "The search text contains a NUL character.");
  // standard_conforming_strings is on (the default since PostgreSQL 9.1): backslashes in a plain
  // '...' literal are literal characters, so doubling single quotes is the complete escape.
  return sql.raw(`'${pattern.replace(/'/g, "''")}'`);
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

interface Cursor {
  t: string; // created_at, full microsecond precision, as PostgreSQL printed it in UTC
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Cursor;
    if (typeof c.t === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(c.t) && isUuid(c.id)) return c;
  } catch {
    /* fall through */
  }
  throw new DomainError("invalid_cursor", "The cursor is not one this server handed out.");
}

/** A users row as the database returns it (decoded with `rowOf`), plus the cursor text. */
type Row = Record<string, unknown> & { id: string; cursor_t: string };

/**
 * Staff (users:read; qa sees sandbox only), the system actor, or an API key (users:read; its own
 * environment and region only). Deleted users are never listed.
 */
export async function searchUsers(
  db: Executor,
  actor: Actor,
  input: SearchUsersInput = {},
  /** Tests and benchmarks: force one path, or a smaller cap (see the header). */
  opts: { path?: "walk" | "bitmap"; bitmapCap?: number } = {},
): Promise<UserPage> {
  const cap = opts.bitmapCap ?? BITMAP_CAP;
  let environments: Environment[];
  let region: string | null = null;
  if (actor.type === "api_key") {
    assertKeyScope(actor, "users:read");
    environments = [actor.environment as Environment];
    region = actor.region;
  } else {
    assertStaffCan(actor, "users:read", input.environment ?? null);
    environments = actor.type === "staff" ? visibleEnvironments(actor.role) : [...ENVIRONMENTS];
  }
  if (input.environment) environments = environments.filter((e) => e === input.environment);

  const limit = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.trunc(Number(input.limit ?? DEFAULT_PAGE_SIZE)) || DEFAULT_PAGE_SIZE));
  // `range`: what every path reads (live users before the cursor); `where`: everything a row must
  // also pass. The probe walks `range` only, so a selective filter (status=disabled, a small
  // region) cannot make its thousand rows cost the whole table.
  const range: SQL[] = [sql`deleted_at is null`];
  const where: SQL[] = [];
  where.push(
    environments.length
      ? sql`environment in (${sql.join(
          environments.map((e) => sql`${e}`),
          sql`, `,
        )})`
      : sql`false`,
  );
  if (region) where.push(sql`region = ${region}`);
  if (input.status === "active") where.push(sql`disabled_at is null`);
  if (input.status === "disabled") where.push(sql`disabled_at is not null`);

  const q = (input.q ?? "").trim().toLowerCase().slice(0, 200);
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    range.push(sql`(created_at, id) < (${c.t}::timestamptz, ${c.id}::uuid)`);
  }
  const inRange = sql.join(range, sql` and `);
  const filters = sql.join([...range, ...where], sql` and `);
  const otherFilters = sql.join(where, sql` and `);
  let matching: SQL | null = null;
  if (q) {
    const prefix = likeLiteral(`${escapeLike(q)}%`);
    const matches: SQL[] = [sql`lower(client_user_id) like ${prefix}`, sql`lower(email) like ${prefix}`, sql`lower(name) like ${prefix}`];
    // Trigram substring search needs three characters to be selective (and to use the index).
    if (q.length >= 3 && !isUuid(q)) {
      matches.push(
        sql`(lower(client_user_id) || ' ' || coalesce(lower(email), '') || ' ' || coalesce(lower(name), '')) like ${likeLiteral(`%${escapeLike(q)}%`)}`,
      );
    }
    if (isUuid(q)) matches.push(sql`id = ${q}::uuid`);
    matching = sql`(${sql.join(matches, sql` or `)})`;
  }

  const columns = sql`id, environment, region, client_user_id, email, name, disabled_at, deleted_at, created_by_key_id, created_at,
          to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_t`;
  const order = sql`order by created_at desc nulls last, id desc nulls last`;
  let rows: Row[];
  if (!matching) {
    rows = await queryRows<Row>(db, sql`select ${columns} from users where ${filters} ${order} limit ${limit + 1}`);
  } else {
    const match = matching;
    const walk = () => queryRows<Row>(db, sql`select ${columns} from users where ${filters} and ${match} ${order} limit ${limit + 1}`);
    // Every match's sort keys from the indexes' bitmap, at most BITMAP_CAP of them (a CTE feeds its
    // reader lazily, so past the cap no more heap rows are read); the page's columns for the page's
    // rows alone. Null when the cap was reached: the term is common after all, and the walk is the
    // plan for it (a page sorted from an arbitrary capped subset would be wrong).
    const bitmap = async (): Promise<Row[] | null> => {
      const found = await queryRows<Row & { matched: number | string }>(
        db,
        sql`with matched as materialized (select id, created_at from users where ${filters} and ${match}),
                 capped as (select id, created_at from matched limit ${cap + 1}),
                 page as (select id from capped ${order} limit ${limit + 1})
            select ${columns}, (select count(*) from capped) as matched from users where id in (select id from page) ${order}`,
      );
      return found.length && Number(found[0]!.matched) > cap ? null : found;
    };
    if (opts.path) {
      rows = opts.path === "walk" ? await walk() : ((await bitmap()) ?? (await walk()));
    } else if (isUuid(q)) {
      rows = (await bitmap()) ?? (await walk()); // an id and prefixes of it: never a common term
    } else {
      rows = await queryRows<Row>(
        db,
        sql`select ${columns} from (select * from users where ${inRange} ${order} limit ${SEARCH_PROBE}) as newest
            where ${otherFilters} and ${match} ${order} limit ${limit + 1}`,
      );
      if (rows.length <= limit) rows = (await bitmap()) ?? (await walk());
    }
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    users: page.map((r) => toUserView(rowOf(users, r))),
    nextCursor: rows.length > limit && last ? encodeCursor({ t: last.cursor_t, id: last.id }) : null,
  };
}
