/**
 * Streaming export of a filtered audit log as CSV or NDJSON: rows are encoded as they are read, a
 * page at a time, so a 10M-row export never holds more than one page in memory.
 */
import type { Executor } from "@/db/client";
import type { AuditEventRow } from "@/db/schema";
import { type AuditFilter, iterateAuditEvents } from "./query";

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

export function toExportRecord(e: AuditEventRow) {
  return {
    id: e.id,
    occurred_at: e.occurredAt.toISOString(),
    actor_type: e.actorType,
    actor_id: e.actorId,
    actor_name: e.actorName,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    environment: e.environment,
    outcome: e.outcome,
    reason: e.reason,
    request_id: e.requestId,
    ip: e.ip,
    user_agent: e.userAgent,
    details: e.details,
  };
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
  const encoder = new TextEncoder();
  let rows: AsyncGenerator<AuditEventRow> | null = null;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      rows = iterateAuditEvents(db, filter);
      if (format === "csv") controller.enqueue(encoder.encode(`${EXPORT_COLUMNS.join(",")}\n`));
    },
    async pull(controller) {
      // One page per pull: back-pressure from a slow client pauses the database reads.
      const chunk: string[] = [];
      for (let i = 0; i < 500; i++) {
        const next = await rows!.next();
        if (next.done) {
          if (chunk.length) controller.enqueue(encoder.encode(chunk.join("")));
          controller.close();
          return;
        }
        const rec = toExportRecord(next.value);
        chunk.push(format === "csv" ? `${EXPORT_COLUMNS.map((c) => csvField(rec[c])).join(",")}\n` : `${JSON.stringify(rec)}\n`);
      }
      controller.enqueue(encoder.encode(chunk.join("")));
    },
    async cancel() {
      await rows?.return(undefined);
    },
  });
}
