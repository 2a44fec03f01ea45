/**
 * Hot-path statements: the token endpoints write their SQL as `sql` templates run through
 * `queryRows`, not through drizzle's query builder, and decode rows here.
 *
 * Why: measured in-process on PostgreSQL (CPU per statement, one connection), a drizzle
 * `select().from(users).where(eq(users.id, …))` costs ~335 µs to build, run and map; the same
 * statement as an `sql` template ~120 µs, about what postgres.js alone costs. A mint, an exchange or
 * a refresh ran 6–9 builder statements, so the builder was a third of their server CPU. Everything
 * off the hot path keeps the builder: it is clearer and the difference does not matter there.
 *
 * Values are decoded with each column's own drizzle decoder, so a row read here is exactly the
 * `$inferSelect` row the builder would have returned (dates as Date, arrays, jsonb...).
 */
import { getTableColumns, type InferSelectModel, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";

const columnsByTable = new WeakMap<PgTable, Array<[string, PgColumn]>>();

function columns(table: PgTable): Array<[string, PgColumn]> {
  let list = columnsByTable.get(table);
  if (!list) {
    list = Object.entries(getTableColumns(table)) as Array<[string, PgColumn]>;
    columnsByTable.set(table, list);
  }
  return list;
}

/**
 * A raw row (snake_case names as the database returns them, optionally prefixed by an alias such as
 * `u_`) as the table's typed row.
 */
export function rowOf<T extends PgTable>(table: T, raw: Record<string, unknown>, prefix = ""): InferSelectModel<T> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of columns(table)) {
    const value = raw[prefix + column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as InferSelectModel<T>;
}

const selectLists = new WeakMap<PgTable, Map<string, SQL>>();

/**
 * The table's columns as a select list (`u.id, u.environment, …` for alias `u`; `i.id as i_id, …`
 * with prefix `i_`, for a second table of a join, read back with `rowOf(table, raw, "i_")`) instead of `u.*`:
 * a prepared statement (`queryRows(…, { prepare: true })`) that selects `*` fails once with "cached
 * plan must not change result type" on every pooled connection after a migration adds a column
 * while the server runs; a list of the columns this code knows keeps its result type.
 */
export function columnsOf(table: PgTable, alias?: string, prefix?: string): SQL {
  let byAlias = selectLists.get(table);
  if (!byAlias) {
    byAlias = new Map();
    selectLists.set(table, byAlias);
  }
  const key = `${alias ?? ""} ${prefix ?? ""}`;
  let list = byAlias.get(key);
  if (!list) {
    list = sql.raw(
      columns(table)
        .map(([, column]) => `${alias ? `${alias}.` : ""}${column.name}${prefix ? ` as ${prefix}${column.name}` : ""}`)
        .join(", "),
    );
    byAlias.set(key, list);
  }
  return list;
}

/** A timestamptz column read by a raw statement: drizzle's drivers hand them over as text. */
export function dateOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  return new Date(String(value)); // `2026-11-22 07:15:00.123+00`, which V8 parses
}
