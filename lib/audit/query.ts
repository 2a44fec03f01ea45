/**
 * Reading the audit log: filters, keyset pages on (occurred_at desc, id desc), and a streaming
 * export that walks the same keyset so memory stays flat however many rows match.
 */
import { and, eq, gte, ilike, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type Executor, queryRows } from "@/db/client";
import { columnsOf, rowOf } from "@/db/rows";
import { type AuditEventRow, auditEvents } from "@/db/schema";
import { DomainError, parseInput } from "@/lib/errors";
import { AUDIT_ACTION_NAMES, AUDIT_OUTCOMES } from "./actions";
import { staffIdsMatching } from "./names";

const isoDate = z
  .string()
  .trim()
  // A zone-less value (an <input type="datetime-local">) is read as UTC, like the page shows times.
  .transform((v) => (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v) ? `${v}Z` : v))
  .refine((v) => !Number.isNaN(Date.parse(v)), "must be a date")
  .transform((v) => new Date(v));

export const auditFilterSchema = z.object({
  /** Actor id (exact), actor name / email (prefix, case-insensitive), or a staff member's name. */
  actor: z.string().trim().max(200).optional(),
  /** An action from the closed list, or a family such as `staff.` / `user.`. */
  action: z
    .string()
    .trim()
    .max(80)
    .refine((v) => AUDIT_ACTION_NAMES.some((a) => a === v || (v.endsWith(".") && a.startsWith(v))), "must be an audit action (or a family such as staff.)")
    .optional(),
  targetType: z.string().trim().max(80).optional(),
  targetId: z.string().trim().max(200).optional(),
  environment: z.enum(["sandbox", "production"]).optional(),
  /** Events naming an API key in their details (migrations, installations) or targeting it. */
  apiKeyId: z.uuid("must be an API key id").optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
});
export type AuditFilter = z.infer<typeof auditFilterSchema>;

/** Parses filters from URL search params, treating empty fields as absent. */
export function parseAuditFilter(params: URLSearchParams | Record<string, string | string[] | undefined>): AuditFilter {
  const entries = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v] as const);
  const raw: Record<string, string> = {};
  for (const [k, v] of entries) if (typeof v === "string" && v.trim() !== "") raw[k] = v;
  return parseInput(auditFilterSchema, raw, { code: "invalid_filter", subject: (field) => `Filter "${field}"` });
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `staffIds`: the staff members whose name or email starts with the Actor filter's text. */
function whereOf(filter: AuditFilter, staffIds: string[] = []): SQL[] {
  const where: SQL[] = [];
  if (filter.actor) {
    // A UUID names an actor by id (the console links do this): the (actor_id, occurred_at, id) index
    // serves it alone. OR-ing in the name-prefix match (which no index serves) made the planner walk
    // the whole time index for a rarely seen actor — seconds at 10M events — for names that are
    // never UUIDs anyway.
    where.push(
      UUID_RE.test(filter.actor)
        ? eq(auditEvents.actorId, filter.actor.toLowerCase())
        : or(
            eq(auditEvents.actorId, filter.actor),
            ilike(auditEvents.actorName, `${escapeLike(filter.actor)}%`),
            // Staff events carry the email as actor name; their display name lives on the staff row.
            // One array parameter, so that the statement's text does not vary with their number.
            ...(staffIds.length ? [sql`${auditEvents.actorId} = any(${`{${staffIds.join(",")}}`}::text[])`] : []),
          )!,
    );
  }
  if (filter.action) {
    where.push(filter.action.endsWith(".") ? inArray(auditEvents.action, familyActions(filter.action)) : eq(auditEvents.action, filter.action));
  }
  if (filter.targetType) where.push(eq(auditEvents.targetType, filter.targetType));
  if (filter.targetId) where.push(eq(auditEvents.targetId, filter.targetId));
  if (filter.environment) where.push(eq(auditEvents.environment, filter.environment));
  if (filter.outcome) {
    where.push(eq(auditEvents.outcome, filter.outcome));
    // Failures and denials (a few % of events) have their own partial index in time order; the
    // planner uses it only when the query repeats its predicate as written.
    if (filter.outcome !== "success") where.push(sql`${auditEvents.outcome} <> 'success'`);
  }
  if (filter.from) where.push(gte(auditEvents.occurredAt, filter.from));
  if (filter.to) where.push(lt(auditEvents.occurredAt, filter.to));
  return where;
}

export interface Cursor {
  at: Date;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at.toISOString(), c.id])).toString("base64url");
}

export function decodeCursor(raw: string | null | undefined): Cursor | null {
  if (!raw) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as [string, string];
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || typeof id !== "string" || !/^[0-9a-f-]{36}$/i.test(id)) throw new Error();
    return { at: date, id };
  } catch {
    throw new DomainError("invalid_cursor", "The page cursor is not valid; start again from the first page.");
  }
}

/** A cursor as the export keeps it: the time as the database printed it, microseconds and all. */
type RowCursor = { at: string; id: string };

function afterCursor(c: Cursor | RowCursor): SQL {
  // A row comparison is a btree index condition on (occurred_at, id): the scan starts at the cursor.
  // (The equivalent `a < x or (a = x and id < y)` is only a filter, so page N re-read N pages.)
  const at = typeof c.at === "string" ? c.at : c.at.toISOString();
  return sql`(${auditEvents.occurredAt}, ${auditEvents.id}) < (${at}::timestamptz, ${c.id}::uuid)`;
}

// The indexes are (occurred_at DESC NULLS LAST, id DESC NULLS LAST) (drizzle's `.desc()`); a plain
// `order by ... desc` means NULLS FIRST and cannot walk them, so every page sorted the whole table.
const NEWEST_FIRST = [sql`${auditEvents.occurredAt} desc nulls last`, sql`${auditEvents.id} desc nulls last`];
/** The same order over a subquery's (id, occurred_at) columns, then `limit` (its count follows). */
const NEWEST_PAGE = sql.raw("order by occurred_at desc nulls last, id desc nulls last limit ");

/**
 * Events naming an API key in `details.apiKeyId` or targeting it. An OR of the two cannot walk an
 * index in time order (it walked the whole time index, filtering: ~20 ms p95 at 10M events), so
 * each side reads at most one page of its own index past the cursor — the partial
 * audit_events_detail_api_key_time_idx (hence the `details ? 'apiKeyId'` its predicate needs) and
 * the target index — the newest page of their union is chosen from the index entries' times, and
 * only that page is read by primary key.
 */
function apiKeyEvents(apiKeyId: string, rest: SQL[], page: number): SQL {
  const others = rest.length ? sql` and ${and(...rest)}` : sql``;
  const branch = (cond: SQL) =>
    sql`(select ${auditEvents.id}, ${auditEvents.occurredAt} from ${auditEvents} where ${cond}${others} order by ${sql.join(NEWEST_FIRST, sql`, `)} limit ${page})`;
  const named = sql`${auditEvents.details} ? 'apiKeyId' and ${auditEvents.details}->>'apiKeyId' = ${apiKeyId}`;
  const targeted = sql`${auditEvents.targetType} = 'api_key' and ${auditEvents.targetId} = ${apiKeyId}`;
  return sql`${auditEvents.id} = any(array(select id from (${branch(named)} union ${branch(targeted)}) as branch ${NEWEST_PAGE}${page}))`;
}

/** The actions of a family such as `staff.` (the schema only accepts families that have some). */
function familyActions(family: string): string[] {
  return AUDIT_ACTION_NAMES.filter((a) => a.startsWith(family));
}

/**
 * Events of a family of actions. `action in (…)` cannot walk the (action, occurred_at, id) index in
 * time order across several actions, and walking the time index filtering reads a whole log's worth
 * of rows per page for a rare family (staff., migration.): so each action reads at most one page of
 * its own index past the cursor (index-only: the entries hold the time and id), the newest page of
 * them all is chosen from those entries, and only that page is read by primary key (reading every
 * action's page — up to 8 × 51 rows for `device.` — cost more than the rest together). The actions
 * are one array parameter, each read by a lateral subquery: a union of one branch per action was
 * planned afresh on every call (0.42 ms for `device.`'s eight, custom plans winning the plan cache's
 * comparison) where this shape plans in 0.13 ms and reads the same 193 buffers.
 */
function familyEvents(family: string, rest: SQL[], page: number): SQL {
  const others = rest.length ? sql` and ${and(...rest)}` : sql``;
  return sql`${auditEvents.id} = any(array(select branch.id from unnest(${`{${familyActions(family).join(",")}}`}::text[]) as family(action)
    cross join lateral (select ${auditEvents.id}, ${auditEvents.occurredAt} from ${auditEvents} where ${auditEvents.action} = family.action${others} order by ${sql.join(NEWEST_FIRST, sql`, `)} limit ${page}) as branch
    ${NEWEST_PAGE}${page}))`;
}

export interface AuditPage {
  events: AuditEventRow[];
  nextCursor: string | null;
}

export const MAX_AUDIT_PAGE = 200;

/**
 * The statement reading one page of events matching `filter` after `cursor`, newest first, selecting
 * `columns` (the console's pages read whole rows; the export only what it writes). `limit + 1` rows
 * are read so the caller knows whether another page follows.
 */
export function auditPageStatement(filter: AuditFilter, staffIds: string[], cursor: Cursor | RowCursor | null | undefined, limit: number, columns: SQL): SQL {
  const family = !filter.apiKeyId && filter.action?.endsWith(".") ? filter.action : null;
  // A family's branches each name one action: the family's list beside it would only lengthen them.
  const where = whereOf(family ? { ...filter, action: undefined } : filter, staffIds);
  if (cursor) where.push(afterCursor(cursor));
  // API-key and family pages: every filter is applied in the branches that choose the page's ids,
  // and the rows are read by id alone (repeating the filters cost planning, nothing else: the 8
  // branches of `device.` with the family's list in each were 108 parameters, planned in 0.66 ms).
  const conditions = filter.apiKeyId ? [apiKeyEvents(filter.apiKeyId, where, limit + 1)] : family ? [familyEvents(family, where, limit + 1)] : where;
  return sql`select ${columns} from ${auditEvents} ${conditions.length ? sql`where ${and(...conditions)}` : sql``}
             order by ${sql.join(NEWEST_FIRST, sql`, `)} limit ${limit + 1}`;
}

/** The staff members an Actor filter's text names (a UUID names an actor by id instead). */
export function staffIdsFor(db: Executor, filter: AuditFilter): Promise<string[]> | string[] {
  return filter.actor && !UUID_RE.test(filter.actor) ? staffIdsMatching(db, filter.actor) : [];
}

export async function listAuditEvents(
  db: Executor,
  filter: AuditFilter,
  opts: { cursor?: Cursor | null; limit?: number; maxLimit?: number; staffIds?: string[] } = {},
): Promise<AuditPage> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), opts.maxLimit ?? MAX_AUDIT_PAGE);
  const staffIds = opts.staffIds ?? (await staffIdsFor(db, filter));
  // An `sql` template and rowOf rather than the select builder: pages run this constantly, and the
  // builder's CPU was most of a page's time (db/rows.ts). Prepared: the text depends only on which
  // filters are set (and a family's actions), every value is bound, so each connection keeps one
  // named statement per shape and a page is one round trip (an unnamed statement waited for its
  // parameter types first: two). PostgreSQL still plans it per call while the custom plans win.
  // The columns by name, not `*` (db/rows.ts columnsOf: a prepared `*` breaks when a migration adds one).
  const raw = await queryRows<Record<string, unknown>>(db, auditPageStatement(filter, staffIds, opts.cursor, limit, columnsOf(auditEvents)), {
    prepare: true,
  });
  const rows = raw.map((r) => rowOf(auditEvents, r));
  const more = rows.length > limit;
  const events = more ? rows.slice(0, limit) : rows;
  const last = events[events.length - 1];
  return { events, nextCursor: more && last ? encodeCursor({ at: last.occurredAt, id: last.id }) : null };
}

/**
 * Raw rows of every event matching `filter`, newest first, `pageSize` at a time, selecting `columns`
 * (which must include `id` and `cursor_at`: the row's time as text, at the database's full
 * precision). The next page is requested before this one is handed out, so the database reads it
 * while the caller encodes this one: at 10M events, reading and encoding one after the other left
 * each side idle half the time.
 */
export async function* iterateAuditRows<Row extends { id: string; cursor_at: string }>(
  db: Executor,
  filter: AuditFilter,
  columns: SQL,
  pageSize = 2000,
): AsyncGenerator<Row[]> {
  const staffIds = await staffIdsFor(db, filter);
  const read = (cursor: RowCursor | null) => queryRows<Row>(db, auditPageStatement(filter, staffIds, cursor, pageSize, columns));
  let next: Promise<Row[]> | null = read(null);
  try {
    while (next) {
      const rows: Row[] = await next;
      const page = rows.length > pageSize ? rows.slice(0, pageSize) : rows;
      const last = page[page.length - 1];
      next = rows.length > pageSize && last ? read({ at: last.cursor_at, id: last.id }) : null;
      yield page;
    }
  } finally {
    // A reader that stops early (a client gone mid-download) leaves the page read ahead unwanted.
    next?.catch(() => undefined);
  }
}
