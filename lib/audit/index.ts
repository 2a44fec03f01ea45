/**
 * The audit log's operations for people: each checks the actor's permission first. Writers call
 * `recordAudit` (record.ts) directly with their own transaction.
 */
import type { Database, Executor } from "@/db/client";
import type { Actor, RequestMeta } from "@/lib/context";
import { assertStaffCan } from "@/lib/staff/authorize";
import { type AuditAnchor, formatAnchor } from "./anchor";
import { type ExportFormat, exportAuditStream } from "./export";
import { type AuditFilter, type Cursor, listAuditEvents } from "./query";
import { recordAudit } from "./record";
import { latestSeal, type SealHead } from "./seal";
import { type VerifyReport, verifyAuditLog } from "./verify";

export type { AuditFilter } from "./query";
export { recordAudit } from "./record";

export async function searchAuditLog(db: Executor, actor: Actor, filter: AuditFilter, opts: { cursor?: Cursor | null; limit?: number }) {
  assertStaffCan(actor, "audit:read");
  return listAuditEvents(db, filter, opts);
}

/** Records who exported what (the filter, never the rows) and streams the matching events. */
export async function exportAuditLog(
  db: Executor,
  actor: Actor,
  filter: AuditFilter,
  format: ExportFormat,
  meta: RequestMeta,
): Promise<ReadableStream<Uint8Array>> {
  assertStaffCan(actor, "audit:export");
  await recordAudit(
    db,
    {
      actor,
      action: "audit.exported",
      details: {
        format,
        filter: Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])),
      },
    },
    meta,
  );
  return exportAuditStream(db, filter, format);
}

export async function verifyAuditLogAs(db: Database, actor: Actor, meta: RequestMeta, opts: { anchor?: AuditAnchor | null } = {}): Promise<VerifyReport> {
  assertStaffCan(actor, "audit:read");
  const report = await verifyAuditLog(db, { anchor: opts.anchor ?? null });
  await recordAudit(
    db,
    {
      actor,
      action: "audit.verified",
      outcome: report.ok ? "success" : "failure",
      details: {
        eventsChecked: report.eventsChecked,
        sealsChecked: report.sealsChecked,
        problem: report.problem?.message ?? null,
        anchor: report.anchor
          ? report.anchor.seq === null
            ? report.anchor.digest
            : formatAnchor({ seq: report.anchor.seq, digest: report.anchor.digest })
          : null,
      },
    },
    meta,
  );
  return report;
}

/** The newest seal as an anchor to keep outside the database (`tokendesk audit anchor` prints the same). */
export async function latestAnchorAs(db: Executor, actor: Actor): Promise<(SealHead & { anchor: string }) | null> {
  assertStaffCan(actor, "audit:read");
  const head = await latestSeal(db);
  return head ? { ...head, anchor: formatAnchor(head) } : null;
}
