/**
 * The migration events (`migration.completed` / `migration.rejected`) behind the report, listed
 * and exported for anyone who may read the report — a narrower door into the audit log than
 * `audit:read`, which support staff do not have.
 */
import type { Executor } from "@/db/client";
import type { AuditEventRow } from "@/db/schema";
import { type ExportFormat, exportAuditStream } from "@/lib/audit/export";
import { type AuditFilter, type Cursor, listAuditEvents } from "@/lib/audit/query";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";

export interface MigrationEventsQuery {
  from: Date;
  to: Date;
  apiKeyId?: string;
  outcome?: "completed" | "rejected";
}

function toAuditFilter(actor: Actor, q: MigrationEventsQuery): AuditFilter {
  const qaOnly = actor.type === "staff" && visibleEnvironments(actor.role).length === 1;
  return {
    action: q.outcome ? `migration.${q.outcome}` : "migration.",
    from: q.from,
    to: q.to,
    apiKeyId: q.apiKeyId,
    environment: qaOnly ? "sandbox" : undefined,
  };
}

export async function listMigrationEvents(
  db: Executor,
  actor: Actor,
  q: MigrationEventsQuery,
  opts: { cursor?: Cursor | null; limit?: number } = {},
): Promise<{ events: AuditEventRow[]; nextCursor: string | null }> {
  assertStaffCan(actor, "migrations:read");
  return listAuditEvents(db, toAuditFilter(actor, q), opts);
}

export async function exportMigrationEvents(
  db: Executor,
  actor: Actor,
  q: MigrationEventsQuery,
  format: ExportFormat,
  meta: RequestMeta,
): Promise<ReadableStream<Uint8Array>> {
  assertStaffCan(actor, "migrations:read");
  const filter = toAuditFilter(actor, q);
  await recordAudit(
    db,
    {
      actor,
      action: "audit.exported",
      details: { scope: "migrations", format, filter: { ...filter, from: q.from.toISOString(), to: q.to.toISOString() } },
    },
    meta,
  );
  return exportAuditStream(db, filter, format);
}
