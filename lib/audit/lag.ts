/**
 * How far the sealer is behind: events not yet bound into a seal, and when the newest seal was
 * made. Read by every instance's background loop into its metrics (lib/metrics), so a scrape of
 * /metrics never waits for the database.
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { metrics } from "@/lib/metrics";

export interface AuditLag {
  unsealedEvents: number;
  newestSealAt: Date | null;
}

export async function readAuditLag(db: Executor): Promise<AuditLag> {
  // Both reads walk an index: the newest seal by its key, the unsealed tail by audit_events_txid_idx.
  const [row] = await queryRows<{ unsealed: number | string; sealed_at: string | Date | null }>(
    db,
    sql`with last as (select to_txid, created_at as sealed_at from audit_seals order by seq desc limit 1)
        select (select count(*) from audit_events where txid >= coalesce((select to_txid from last), 0))::int as unsealed,
               (select sealed_at from last) as sealed_at`,
  );
  const lag = { unsealedEvents: Number(row?.unsealed ?? 0), newestSealAt: row?.sealed_at ? new Date(row.sealed_at) : null };
  const m = metrics();
  m.audit.unsealed = lag.unsealedEvents;
  m.audit.newestSealAt = lag.newestSealAt;
  return lag;
}
