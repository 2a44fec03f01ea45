/**
 * Expiry of IDV handoffs: sessions past their expiry become `expired` (with an audit event each)
 * and expired ephemeral tokens are deleted — "destroyed", as the vendor's docs put it. Safe on
 * several instances at once: one runner holds a transaction-scoped advisory lock, the others skip.
 */
import { sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { queryRows } from "@/db/client";
import { rowOf } from "@/db/rows";
import { idvSessions } from "@/db/schema";
import { recordAudits } from "@/lib/audit/record";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { idvSessionRef } from "@/lib/webhooks/events";

const IDV_SWEEP_LOCK = 7_404_117_005;
/** Rows per run at most, so one run is a bounded transaction; the next tick takes the rest. */
export const IDV_SWEEP_BATCH = 500;

export interface IdvSweepResult {
  ran: boolean;
  sessionsExpired: number;
  tokensDeleted: number;
}

export async function sweepExpiredIdv(db: Database, now: Date = new Date()): Promise<IdvSweepResult> {
  return db.transaction(async (tx) => {
    const [lock] = await queryRows<{ ok: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${IDV_SWEEP_LOCK}) as ok`);
    if (!lock?.ok) return { ran: false, sessionsExpired: 0, tokensDeleted: 0 };
    // A bound timestamp, not a Date: postgres.js cannot serialise a Date inside raw SQL.
    const at = now.toISOString();
    const expired = (
      await queryRows<Record<string, unknown>>(
        tx,
        sql`update idv_sessions set status = 'expired', updated_at = ${at}::timestamptz
            where id in (select id from idv_sessions
                         where status in ('created', 'in_progress') and expires_at <= ${at}::timestamptz
                         order by expires_at limit ${IDV_SWEEP_BATCH} for update skip locked)
            returning *`,
      )
    ).map((raw) => rowOf(idvSessions, raw));
    const actor = systemActor("idv expiry sweeper");
    await recordAudits(
      tx,
      expired.map((s) => ({
        actor,
        action: "idv_session.expired" as const,
        target: { type: "idv_session", id: s.id },
        environment: s.environment,
        details: { workflowId: s.workflowId },
        occurredAt: now,
        webhook: { type: "idv_session.expired" as const, data: idvSessionRef(s) },
      })),
      NO_REQUEST,
    );
    const deleted = await queryRows<{ id: string }>(
      tx,
      sql`delete from ephemeral_tokens
          where id in (select id from ephemeral_tokens where expires_at <= ${at}::timestamptz limit ${IDV_SWEEP_BATCH} for update skip locked)
          returning id::text as id`,
    );
    return { ran: true, sessionsExpired: expired.length, tokensDeleted: deleted.length };
  });
}
