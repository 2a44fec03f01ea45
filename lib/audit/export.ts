/**
 * Streaming export of a filtered audit log as CSV or NDJSON: rows are encoded as they are read, a
 * page at a time, so a 10M-row export never holds more than one page in memory.
 */

import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { type AuditFilter, iterateAuditRows } from "./query";

export const EXPORT_COLUMNS = [
  "id",
  "occurred_at",
  "actor_type",
  "actor_id",
  "actor_name",
  "action",
  "target_type",
  "target_id",
  "environment",
  "outcome",
  "reason",
  "request_id",
  "ip",
  "user_agent",
  "details",
] as const;

/**
 * The exported columns as they are written, plus the keyset cursor: the export reads these rather
 * than whole rows (no row HMAC, no txid, the time already in ISO 8601 as `Date#toISOString` prints
 * it), which halved the Node CPU a row cost at 10M events.
 */
const EXPORT_SELECT = sql.raw(
  [
    ...EXPORT_COLUMNS.map((c) => (c === "occurred_at" ? `to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at` : c)),
    "occurred_at::text as cursor_at",
  ].join(", "),
);

type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], unknown> & { id: string; cursor_at: string };

function toExportRecord(row: ExportRow): Record<(typeof EXPORT_COLUMNS)[number], unknown> {
  const rec = {} as Record<(typeof EXPORT_COLUMNS)[number], unknown>;
  for (const c of EXPORT_COLUMNS) rec[c] = row[c];
  return rec;
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s = typeof value === "string" ? value : JSON.stringify(value);
  // Neutralise spreadsheet formulas (CSV injection) in text a user or API caller controlled.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export type ExportFormat = "csv" | "ndjson";

export function exportAuditStream(db: Executor, filter: AuditFilter, format: ExportFormat): ReadableStream<Uint8Array> {
  let pages: AsyncGenerator<ExportRow[]> | null = null;
  const line =
    format === "csv"
      ? (row: ExportRow) => `${EXPORT_COLUMNS.map((c) => csvField(row[c])).join(",")}\n`
      : (row: ExportRow) => `${JSON.stringify(toExportRecord(row))}\n`;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      pages = iterateAuditRows<ExportRow>(db, filter, EXPORT_SELECT);
      if (format === "csv") controller.enqueue(Buffer.from(`${EXPORT_COLUMNS.join(",")}\n`));
    },
    async pull(controller) {
      // One page per pull: back-pressure from a slow client pauses the database reads.
      const next = await pages!.next();
      if (next.done) {
        controller.close();
        return;
      }
      // Each line encoded on its own, then joined as bytes: encoding one page-sized string cost
      // three times as much CPU (measured: 7 µs a row against 2 µs).
      controller.enqueue(Buffer.concat(next.value.map((row) => Buffer.from(line(row)))));
    },
    async cancel() {
      await pages?.return(undefined);
    },
  });
}
