/**
 * "Writes nothing", checked on the whole database: a digest of every row of every table in the
 * public schema, each row's full content as JSON, so an in-place update (`used_at`, `rotated_at`,
 * `last_used_at`, a rate-limit counter) shows as well as an insert or a delete. Tables are read from
 * the catalogue: one added by a later migration is covered without touching this file.
 *
 *   const before = await databaseDigest(db);
 *   ... the refused requests ...
 *   await expectUnchanged(db, before);
 *
 * Left out is only what a running server's background timers do by themselves (a test must not
 * depend on when a timer fires):
 *  - `audit_seals`: the sealer binds audit rows written earlier into seals every few seconds; the
 *    rows themselves (`audit_events`) are compared in full.
 *  - the expiry sweepers: a revoked-access-token, ephemeral-token or IDV-session row that was due
 *    to expire within the horizon may go (or, for a session, turn `expired`), and the sweeper's own
 *    `idv_session.expired` audit events may appear. Anything else a row of those tables does shows.
 *  - the activity roll-up (`activity_daily`, `activity_days`): the overview's daily counts, recounted
 *    from the audit log every few minutes; the audit rows they are counted from are compared in full.
 *  - the retention janitor's `janitor.ran` event (every 15 minutes; what it deletes is days old,
 *    which a test's rows never are, so its deletes still show).
 *  - the webhook dispatcher's own columns (every instance runs it, polling every second): a
 *    delivery's progress (`status`, `attempts`, the attempt times, `last_response_status`,
 *    `last_error`, `last_duration_ms`, `delivered_at`) and an endpoint's `failing_since` and
 *    `last_success_at`. A delivery's other columns (its event, body, `retry_until`) and an endpoint's
 *    other columns are compared, so an outbox row a refused change wrote, a replay (new
 *    `retry_until`) or a disable/rotation still shows. Its 30-day delivery sweeper deletes only rows
 *    older than any test's; its disabling of an endpoint after a failing day cannot happen within one.
 *    Its fan-out writes the deliveries of events committed earlier, after their commit: a delivery
 *    may come if its event (the audit row carrying its message id) is there — audit rows are
 *    compared in full, so an event a refused change wrote still shows — and the fan-out's cursor
 *    (`webhook_fanout_cursor`) moves along by itself.
 * A test may exempt more, by name and with its reason (`except`), e.g. the once-a-minute stamp of
 * an API key's last use that any authenticated request makes.
 */
import { type SQL, sql } from "drizzle-orm";
import { expect } from "vitest";
import { type Executor, queryRows } from "@/db/client";

/** Rows due to expire within this long of the first digest may be swept during the test. */
const SWEEP_HORIZON_MS = 30 * 60_000;

/**
 * Per table: which rows background work may remove (`mayGo`, judged on the earlier digest's rows,
 * with `$horizon`) and which rows it may add or leave changed (`mayCome`, judged on the later ones).
 */
const BACKGROUND: Record<string, "ignored" | { mayGo?: string; mayCome?: string; columns?: string[] }> = {
  audit_seals: "ignored",
  activity_daily: "ignored",
  activity_days: "ignored",
  revoked_access_tokens: { mayGo: "expires_at <= $horizon" },
  ephemeral_tokens: { mayGo: "expires_at <= $horizon" },
  idv_sessions: { mayGo: "expires_at <= $horizon and status in ('created', 'in_progress')", mayCome: "status = 'expired' and expires_at <= now()" },
  audit_events: {
    mayCome: "actor_type = 'system' and ((actor_name = 'idv expiry sweeper' and action = 'idv_session.expired') or action = 'janitor.ran')",
  },
  webhook_fanout_cursor: "ignored",
  webhook_deliveries: {
    mayCome: "message_id in (select webhook->>'messageId' from audit_events where webhook is not null)",
    columns: [
      "status",
      "attempts",
      "next_attempt_at",
      "first_attempt_at",
      "last_attempt_at",
      "last_response_status",
      "last_error",
      "last_duration_ms",
      "delivered_at",
    ],
  },
  webhook_endpoints: { columns: ["failing_since", "last_success_at"] },
};

/** The test's exemptions plus the columns background work owns (BACKGROUND's `columns`). */
function exemptionsOf(table: string, except: Exemption[]): Exemption[] {
  const rule = BACKGROUND[table];
  const owned = rule && rule !== "ignored" ? (rule.columns ?? []) : [];
  return [...except.filter((x) => x.table === table), ...owned.map((column) => ({ table, column, because: "background work's own column" }))];
}

/** A column left out of the comparison, for the rows `where` selects (all when absent), and why. */
export interface Exemption {
  table: string;
  column: string;
  where?: SQL;
  because: string;
}

interface RowMark {
  /** md5 of the row's JSON. */
  h: string;
  /** Background work may remove or leave this row (see BACKGROUND). */
  bg: boolean;
}

export interface DatabaseDigest {
  horizon: string;
  except: Exemption[];
  tables: Record<string, RowMark[]>;
}

async function tableNames(db: Executor): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(db, sql`select tablename as name from pg_tables where schemaname = 'public' order by tablename`);
  return rows.map((r) => r.name);
}

/**
 * The row as JSON, minus the exempted columns. Queries name the table by itself (`from x as x`), so
 * an exemption's `where` may use drizzle's columns (`"api_keys"."id"`).
 */
function rowJson(table: string, except: Exemption[]): SQL {
  let json = sql`to_jsonb(${sql.identifier(table)})`;
  for (const e of exemptionsOf(table, except)) {
    json = e.where ? sql`(case when ${e.where} then ${json} - ${e.column}::text else ${json} end)` : sql`(${json} - ${e.column}::text)`;
  }
  return json;
}

async function marks(db: Executor, table: string, except: Exemption[], predicate: string | undefined, horizon: string): Promise<RowMark[]> {
  const bg = predicate ? sql.raw(`(${predicate.replace("$horizon", `'${horizon}'::timestamptz`)})`) : sql`false`;
  return queryRows<RowMark>(
    db,
    sql`select md5(${rowJson(table, except)}::text) as h, coalesce(${bg}, false) as bg from ${sql.identifier(table)} as ${sql.identifier(table)} order by 1`,
  );
}

/** A digest of every table's full content (see the file comment for what is left out). */
export async function databaseDigest(db: Executor, opts: { except?: Exemption[] } = {}): Promise<DatabaseDigest> {
  return takeDigest(db, "before", new Date(Date.now() + SWEEP_HORIZON_MS).toISOString(), opts.except ?? []);
}

/** `phase` picks the background rule that marks rows: the earlier digest marks what may go, the later one what may come. */
async function takeDigest(db: Executor, phase: "before" | "after", horizon: string, except: Exemption[]): Promise<DatabaseDigest> {
  const tables: Record<string, RowMark[]> = {};
  for (const name of await tableNames(db)) {
    const rule = BACKGROUND[name];
    if (rule === "ignored") continue;
    tables[name] = await marks(db, name, except, phase === "before" ? rule?.mayGo : rule?.mayCome, horizon);
  }
  return { horizon, except, tables };
}

export interface DigestChange {
  table: string;
  /** The content of rows present now that were not (an in-place update shows its new state). */
  added: string[];
  removed: number;
}

/** What changed since `before`, table by table, leaving out what background work may do. */
export async function changesSince(db: Executor, before: DatabaseDigest): Promise<DigestChange[]> {
  const after = await takeDigest(db, "after", before.horizon, before.except);
  const changes: DigestChange[] = [];
  for (const table of new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])) {
    const was = new Set((before.tables[table] ?? []).map((m) => m.h));
    const now = new Set((after.tables[table] ?? []).map((m) => m.h));
    const added = (after.tables[table] ?? []).filter((m) => !was.has(m.h) && !m.bg).map((m) => m.h);
    const removed = (before.tables[table] ?? []).filter((m) => !now.has(m.h) && !m.bg).length;
    if (added.length === 0 && removed === 0) continue;
    const texts = added.length
      ? await queryRows<{ row: string }>(
          db,
          sql`select left(${rowJson(table, before.except)}::text, 400) as row from ${sql.identifier(table)} as ${sql.identifier(table)}
              where md5(${rowJson(table, before.except)}::text) in (${sql.join(
                added.slice(0, 20).map((h) => sql`${h}`),
                sql`, `,
              )})`,
        )
      : [];
    changes.push({ table, added: texts.map((r) => r.row), removed });
  }
  return changes;
}

/** Asserts that no table differs from `before`; a failure names the tables and the rows written. */
export async function expectUnchanged(db: Executor, before: DatabaseDigest, what = "the database"): Promise<void> {
  expect(await changesSince(db, before), `${what} changed`).toEqual([]);
}
