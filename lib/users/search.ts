/**
 * User lookup: one query string that matches a user id exactly, and client user id, email or name
 * exactly, by prefix or by substring; filters; keyset pages on (created_at desc, id desc).
 *
 * Exact and prefix matches first: when any user matches the text exactly or by prefix (user id,
 * client user id, email, name), those are the answer and no substring search runs — a support
 * agent pasting an id or an email from a ticket gets that user from the btrees at once; substrings
 * (the trigram index) are searched only when nothing matches that way. The first page decides and
 * its cursor carries the decision, so every page of one search matches the same way.
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

/** Which rows a search with text matches: exact/prefix ones, or (when there are none) substrings. */
type Kind = "early" | "substring";

interface Cursor {
  t: string; // created_at, full microsecond precision, as PostgreSQL printed it in UTC
  id: string;
  /** The first page's kind of match, kept by every following page (absent in cursors of earlier versions). */
  m?: Kind;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Cursor;
    if (
      typeof c.t === "string" &&
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(c.t) &&
      isUuid(c.id) &&
      (c.m === undefined || c.m === "early" || c.m === "substring")
    )
      return c;
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
  const cursor = input.cursor ? decodeCursor(input.cursor) : null;
  if (cursor) range.push(sql`(created_at, id) < (${cursor.t}::timestamptz, ${cursor.id}::uuid)`);
  const inRange = sql.join(range, sql` and `);
  const filters = sql.join([...range, ...where], sql` and `);
  const otherFilters = sql.join(where, sql` and `);

  const columns = sql`id, environment, region, client_user_id, email, name, disabled_at, deleted_at, created_by_key_id, created_at,
          to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_t`;
  const order = sql`order by created_at desc nulls last, id desc nulls last`;
  const walk = (match: SQL) => queryRows<Row>(db, sql`select ${columns} from users where ${filters} and ${match} ${order} limit ${limit + 1}`);
  // Every match's sort keys from the indexes' bitmap, at most BITMAP_CAP of them (a CTE feeds its
  // reader lazily, so past the cap no more heap rows are read); the page's columns for the page's
  // rows alone. Null when the cap was reached: the term is common after all, and the walk is the
  // plan for it (a page sorted from an arbitrary capped subset would be wrong).
  const bitmap = async (match: SQL): Promise<Row[] | null> => {
    const found = await queryRows<Row & { matched: number | string }>(
      db,
      sql`with matched as materialized (select id, created_at from users where ${filters} and ${match}),
               capped as (select id, created_at from matched limit ${cap + 1}),
               page as (select id from capped ${order} limit ${limit + 1})
          select ${columns}, (select count(*) from capped) as matched from users where id in (select id from page) ${order}`,
    );
    return found.length && Number(found[0]!.matched) > cap ? null : found;
  };
  const indexed = async (match: SQL) => (opts.path === "walk" ? walk(match) : ((await bitmap(match)) ?? (await walk(match))));

  let rows: Row[];
  let kind: Kind | undefined;
  if (!q) {
    rows = await queryRows<Row>(db, sql`select ${columns} from users where ${filters} ${order} limit ${limit + 1}`);
  } else {
    // Exact and prefix matches come from the primary key and the `lower(x) text_pattern_ops`
    // btrees; substrings (the trigram GIN index) only when nothing matches that way, so a pasted
    // id, client user id or email is answered without a substring search. A UUID is never a substring.
    const prefix = likeLiteral(`${escapeLike(q)}%`);
    const early = sql`(${sql.join(
      [
        ...(isUuid(q) ? [sql`id = ${q}::uuid`] : []),
        sql`lower(client_user_id) like ${prefix}`,
        sql`lower(email) like ${prefix}`,
        sql`lower(name) like ${prefix}`,
      ],
      sql` or `,
    )})`;
    const substring =
      q.length >= 3 && !isUuid(q)
        ? sql`(lower(client_user_id) || ' ' || coalesce(lower(email), '') || ' ' || coalesce(lower(name), '')) like ${likeLiteral(`%${escapeLike(q)}%`)}`
        : null;
    if (cursor) {
      // A following page matches as the first did (a cursor from before kinds: either kind).
      kind = cursor.m;
      const match = kind === "early" ? early : kind === "substring" && substring ? substring : sql`(${early} or ${substring ?? sql`false`})`;
      rows = await indexed(match);
    } else if (opts.path || !substring) {
      kind = "early";
      rows = await indexed(early);
      if (!rows.length && substring) {
        kind = "substring";
        rows = await indexed(substring);
      }
    } else {
      // The newest SEARCH_PROBE rows first, marking which kind of match each is.
      const probed = await queryRows<Row & { early_hit: boolean }>(
        db,
        sql`select ${columns}, ${early} as early_hit from (select * from users where ${inRange} ${order} limit ${SEARCH_PROBE}) as newest
            where ${otherFilters} and (${early} or ${substring}) ${order} limit ${limit + 1}`,
      );
      if (probed.length > limit && probed.every((r) => r.early_hit)) {
        kind = "early"; // a full page of the newest matches, all exact or prefix
        rows = probed;
      } else {
        const earlyRows = probed.some((r) => r.early_hit) ? null : await bitmap(early);
        if (earlyRows === null || earlyRows.length) {
          kind = "early";
          rows = earlyRows ?? (await indexed(early));
        } else {
          kind = "substring"; // nothing matches exactly or by prefix: the probe's rows are substring matches
          rows = probed.length > limit ? probed : await indexed(substring);
        }
      }
    }
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    users: page.map((r) => toUserView(rowOf(users, r))),
    nextCursor: rows.length > limit && last ? encodeCursor({ t: last.cursor_t, id: last.id, ...(kind ? { m: kind } : {}) }) : null,
  };
}
