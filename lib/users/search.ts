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
 * One statement, prepared, calling the database function `users_search_page` (migration 0013):
 * exact and prefix matches among the newest SEARCH_PROBE rows (a full page there is the answer: a
 * common prefix), else from the primary key and the `lower(x) text_pattern_ops` btrees, each read by
 * range in its index's order and stopped at EARLY_CAP; when there are none, the substring among the
 * newest rows; when those hold some matches but not a page, the trigram bitmap ANDed with a time
 * range of the next rows, in windows growing x10 (migration 0015: a window that completes the page
 * ends the search, every match outside it being older); then up to BITMAP_CAP older matches from
 * the trigram GIN index, sorted. A pasted id, client user id or email is one round trip, neither parsed nor planned once
 * a connection has made the call a few times: the function keeps its statements' generic plans,
 * which read the same indexes whatever the values (the prefix as a bound range, `~>=~ q and ~<~
 * upper bound`; GIN takes the substring pattern at run time), where a prepared statement of the
 * same SQL was planned again on every call.
 *
 * Rare and common terms need opposite plans. Asked for "newest first, 50 rows", the planner likes
 * to walk `users_created_idx` and filter, hoping to meet 50 matches early: for a common term that is
 * the fastest plan there is, for a term matching a handful of users in a million it reads the whole
 * index (621 ms p95 at 1M users). The indexes' bitmap is the plan for a rare term and slow for one
 * that matches 10% of the table. So:
 * - a full page of matches among the newest rows of the range is the answer (every match outside
 *   is older than every match in);
 * - otherwise the bitmap's matches (in a materialized CTE, so no LIMIT can tempt the planner into
 *   the walk), at most BITMAP_CAP, sorted: the answer for a rare term;
 * - past a cap the term is common after all: the ordered walk finds its page quickly (for a common
 *   prefix the newest rows first, then the walk when they hold a few matches, else the bitmap).
 * The fallbacks inline their LIKE pattern as an escaped literal (the planner needs it to choose).
 * Same rows, same order, whichever path answers (tested). A whole UUID is matched as a user id or
 * as a prefix, not as a substring: 34 trigrams of hex cost the GIN index more than the rest together.
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
/** How many users one prefix index may give the search before the prefix counts as common. */
const EARLY_CAP = 500;
/** Matches among the SEARCH_PROBE newest rows from which the ordered walk is the plan for a common prefix. */
const COMMON_IN_PROBE = 5;

/** The text a substring is looked for in: what the trigram index `users_search_trgm_idx` is built on. */
const SEARCH_TEXT = sql.raw(`(lower(client_user_id) || ' ' || coalesce(lower(email), '') || ' ' || coalesce(lower(name), ''))`);

/**
 * The least string greater than every string starting with `prefix`, in code point order (which is
 * the byte order of UTF-8 and of `text_pattern_ops`): the last code point plus one, skipping the
 * surrogates; null when every code point is the last there is.
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return null;
}

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
  /**
   * Tests and benchmarks: force one path, smaller caps (see the header), and see each statement
   * sent (to count them and EXPLAIN them: the one-statement search is prepared, out of drizzle's logger).
   */
  opts: { path?: "walk" | "bitmap"; bitmapCap?: number; earlyCap?: number; probe?: number; onStatement?: (statement: SQL) => void } = {},
): Promise<UserPage> {
  const cap = opts.bitmapCap ?? BITMAP_CAP;
  const earlyCap = opts.earlyCap ?? EARLY_CAP;
  const probe = opts.probe ?? SEARCH_PROBE;
  const send = <T>(statement: SQL, prepare = false) => {
    opts.onStatement?.(statement);
    return queryRows<T>(db, statement, { prepare });
  };
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
  const q = (input.q ?? "").trim().toLowerCase().slice(0, 200);
  const cursor = input.cursor ? decodeCursor(input.cursor) : null;
  const where: SQL[] = [sql`deleted_at is null`];
  if (cursor) where.push(sql`(created_at, id) < (${cursor.t}::timestamptz, ${cursor.id}::uuid)`);
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
  const filters = sql.join(where, sql` and `);

  const columns = sql`id, environment, region, client_user_id, email, name, disabled_at, deleted_at, created_by_key_id, created_at,
          to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_t`;
  const order = sql`order by created_at desc nulls last, id desc nulls last`;
  const walk = (match: SQL) => send<Row>(sql`select ${columns} from users where ${filters} and ${match} ${order} limit ${limit + 1}`);
  // Every match's sort keys from the indexes' bitmap, at most BITMAP_CAP of them (a CTE feeds its
  // reader lazily, so past the cap no more heap rows are read); the page's columns for the page's
  // rows alone. Null when the cap was reached: the term is common after all, and the walk is the
  // plan for it (a page sorted from an arbitrary capped subset would be wrong).
  const bitmap = async (match: SQL): Promise<Row[] | null> => {
    const found = await send<Row & { matched: number | string }>(
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
    rows = await send<Row>(sql`select ${columns} from users where ${filters} ${order} limit ${limit + 1}`);
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
    const substringPattern = q.length >= 3 && !isUuid(q) ? `%${escapeLike(q)}%` : null;
    const substring = substringPattern ? sql`${SEARCH_TEXT} like ${likeLiteral(substringPattern)}` : null;
    const upper = prefixUpperBound(q);
    // Forced paths (tests, benchmarks), cursors from before kinds, and a text of U+10FFFF alone
    // (no upper bound for its prefix range): one LIKE statement per path.
    if (opts.path || (cursor && !cursor.m) || upper === null) {
      kind = cursor?.m;
      if (cursor) {
        rows = await indexed(sql`(${early} or ${substring ?? sql`false`})`);
      } else {
        kind = "early";
        rows = await indexed(early);
        if (!rows.length && substring) {
          kind = "substring";
          rows = await indexed(substring);
        }
      }
    } else {
      const withEarly = cursor?.m !== "substring";
      const pattern = cursor?.m === "early" ? null : substringPattern;
      // Always the same text, prepared: the database function keeps its statements' generic plans
      // (migration 0013 says why), and the page's rows are read by id. Empty region/status/cursor
      // are passed as values that filter nothing, so one plan serves every search.
      const found =
        withEarly || pattern
          ? await send<Row & { kind: Kind; matched: number | string; probed: number | string }>(
              sql`select ${columns}, found.kind, found.matched, found.probed
                  from users_search_page(${q}::text, ${upper}::text, ${isUuid(q) ? q : null}::uuid, ${withEarly}::boolean, ${pattern}::text,
                                         ${`{${environments.join(",")}}`}::text[], ${region}::text, ${input.status ?? null}::text,
                                         ${cursor?.t ?? "infinity"}::timestamptz, ${cursor?.id ?? "ffffffff-ffff-ffff-ffff-ffffffffffff"}::uuid,
                                         ${limit + 1}::int, ${earlyCap}::int, ${cap}::int, ${probe}::int) as found
                  join users using (id) ${order}`,
              true,
            )
          : [];
      kind = found[0]?.kind ?? cursor?.m;
      const matched = Number(found[0]?.matched ?? 0);
      // Past the prefix cap the prefix is common, yet the newest rows did not hold a page of it: a
      // few matches there are dense enough for the ordered walk to meet a page soon (the bitmap
      // would read thousands of rows first); rarer, and the bitmap's cap decides.
      if (kind === "early" && matched > earlyCap) rows = Number(found[0]!.probed) >= COMMON_IN_PROBE ? await walk(early) : await indexed(early);
      else if (kind === "substring" && matched > cap && substring) rows = await walk(substring);
      else rows = found;
    }
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    users: page.map((r) => toUserView(rowOf(users, r))),
    nextCursor: rows.length > limit && last ? encodeCursor({ t: last.cursor_t, id: last.id, ...(kind ? { m: kind } : {}) }) : null,
  };
}
