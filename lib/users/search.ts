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
 * One statement, prepared (see `oneStatementSearch`): exact and prefix matches from the primary key
 * and the `lower(x) text_pattern_ops` btrees, each read by range in its index's order and stopped
 * at EARLY_CAP; when there are none, the substring among the newest SEARCH_PROBE rows; when those
 * do not fill a page, up to BITMAP_CAP matches from the trigram GIN index, sorted. A pasted id,
 * client user id or email is therefore one round trip, parsed once per connection. The prefix is
 * a bound parameter written as a range (`~>=~ q and ~<~ upper bound`), which a plan made without
 * the value still reads from the btree; GIN takes the substring pattern at run time.
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
/** How many users one prefix index may give the one-statement search before the prefix counts as common. */
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

interface SearchParts {
  q: string;
  filters: SQL;
  inRange: SQL;
  otherFilters: SQL;
  columns: SQL;
  order: SQL;
  limit: number;
  cap: number;
  earlyCap: number;
  /** Look for exact and prefix matches (every first page; following pages of such a search). */
  withEarly: boolean;
  /** The LIKE pattern of a substring search, when one may run. */
  pattern: string | null;
}

/**
 * A search's page in one statement, prepared: its text depends only on which filters are set, the
 * searched text is a bound parameter, so PostgreSQL parses and plans it once per connection and
 * every search is one round trip. Each part below runs only when the one before found nothing
 * (its `where` on the earlier part's count is a one-time filter: the plan skips it):
 * - exact and prefix matches: the primary key (a UUID) and a range scan of each `text_pattern_ops`
 *   index — `~>=~ q and ~<~ q's upper bound` is what a LIKE prefix becomes, written out so that it
 *   needs no constant pattern — each stopped at EARLY_CAP + 1 entries, so a common prefix costs
 *   a bounded read (the caller sees the count and takes the newest rows or the walk instead);
 * - else the substring among the newest SEARCH_PROBE rows: a full page there is the answer;
 * - else every substring match from the trigram index's bitmap (GIN takes the pattern at run
 *   time), at most `cap` of them, sorted.
 * Rows carry `kind` (early / substring) and `matched` (how many the answering part found; over its
 * cap the page is not to be used).
 */
function oneStatementSearch(p: SearchParts): SQL {
  const ctes: SQL[] = [];
  const answers: SQL[] = [];
  const pageOf = (from: string) => sql.raw(`select id from ${from} order by created_at desc nulls last, id desc nulls last limit `);
  if (p.withEarly) {
    const upper = prefixUpperBound(p.q);
    // Each prefix is read in its index's order (`using ~<~`: text_pattern_ops's), so the plan is an
    // index scan that stops at the cap (a bitmap first reads every entry of a common prefix: 47k
    // entries for "anna", 14 ms); `offset 0` keeps the range alone on that scan (with the filters
    // beside it, a generic plan on a small table preferred users_list_idx and filtered the range).
    const byPrefix = (expr: string) =>
      sql`(select id, created_at from (select * from users where ${sql.raw(expr)} ~>=~ ${p.q} and ${
        upper === null ? sql`starts_with(${sql.raw(expr)}, ${p.q})` : sql`${sql.raw(expr)} ~<~ ${upper}`
      } order by ${sql.raw(expr)} using ~<~ offset 0) as m where ${p.filters} limit ${p.earlyCap + 1})`;
    const branches = [
      ...(isUuid(p.q) ? [sql`(select id, created_at from users where ${p.filters} and id = ${p.q}::uuid)`] : []),
      byPrefix("lower(client_user_id)"),
      byPrefix("lower(email)"),
      byPrefix("lower(name)"),
    ];
    ctes.push(sql`early as (${sql.join(branches, sql` union `)})`);
    ctes.push(sql`early_n as (select count(*) as n from early)`);
    ctes.push(sql`early_page as (${pageOf("early")}${p.limit + 1})`);
    answers.push(sql`select id, 'early' as kind, (select n from early_n) as matched from early_page`);
  }
  if (p.pattern !== null) {
    const noEarly = p.withEarly ? sql`(select n from early_n) = 0` : sql`true`;
    ctes.push(
      sql`probe as (select id, created_at from (select * from users where ${p.inRange} ${p.order} limit ${SEARCH_PROBE}) as newest
                    where ${noEarly} and ${p.otherFilters} and ${SEARCH_TEXT} like ${p.pattern} ${p.order} limit ${p.limit + 1})`,
    );
    ctes.push(sql`probe_n as (select count(*) as n from probe)`);
    ctes.push(
      sql`matched as materialized (select id, created_at from (select * from users where ${SEARCH_TEXT} like ${p.pattern} offset 0) as m
                                    where ${noEarly} and (select n from probe_n) <= ${p.limit} and ${p.filters})`,
    );
    ctes.push(sql`capped as (select id, created_at from matched limit ${p.cap + 1})`);
    ctes.push(sql`matched_page as (${pageOf("capped")}${p.limit + 1})`);
    answers.push(sql`select id, 'substring', 0 from probe where (select n from probe_n) > ${p.limit}`);
    answers.push(sql`select id, 'substring', (select count(*) from capped) from matched_page`);
  }
  return sql`with ${sql.join(ctes, sql`, `)}
             select ${p.columns}, found.kind, found.matched
             from users join (${sql.join(answers, sql` union all `)}) as found using (id) ${p.order}`;
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
  opts: { path?: "walk" | "bitmap"; bitmapCap?: number; earlyCap?: number; onStatement?: (statement: SQL) => void } = {},
): Promise<UserPage> {
  const cap = opts.bitmapCap ?? BITMAP_CAP;
  const earlyCap = opts.earlyCap ?? EARLY_CAP;
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
    // Past the caps the term is common: the newest rows hold a page of it, else the ordered walk.
    const commonEarly = async (): Promise<Row[]> => {
      const probed = await send<Row>(
        sql`select ${columns} from (select * from users where ${inRange} ${order} limit ${SEARCH_PROBE}) as newest
            where ${otherFilters} and ${early} ${order} limit ${limit + 1}`,
      );
      if (probed.length > limit) return probed;
      // A few in a thousand rows is dense enough for the ordered walk to meet a page soon (the bitmap
      // would read thousands of rows first); rarer, and the bitmap's cap decides.
      return probed.length >= COMMON_IN_PROBE ? walk(early) : indexed(early);
    };
    if (opts.path || (cursor && !cursor.m)) {
      // Forced paths (tests, benchmarks) and cursors from before kinds: one LIKE statement per path.
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
      const found =
        withEarly || pattern
          ? await send<Row & { kind: Kind; matched: number | string }>(
              oneStatementSearch({ q, filters, inRange, otherFilters, columns, order, limit, cap, earlyCap, withEarly, pattern }),
              true,
            )
          : [];
      kind = found[0]?.kind ?? cursor?.m;
      const matched = Number(found[0]?.matched ?? 0);
      if (kind === "early" && matched > earlyCap) rows = await commonEarly();
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
