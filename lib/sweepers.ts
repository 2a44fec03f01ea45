/**
 * Background work every server instance schedules. Each sweeper must be safe to run on several
 * instances at once (take a `pg_try_advisory_xact_lock` and return if another instance has it).
 * Add a domain's sweeper to SWEEPERS; bootstrap.ts starts them all.
 */
import type { Database } from "@/db/client";
import { sealAuditLog } from "@/lib/audit/seal";
import { sweepExpiredIdv } from "@/lib/idv/sweeper";
import { sweepRevokedAccessTokens } from "@/lib/oauth/revoke";

export interface Sweeper {
  name: string;
  everyMs: number;
  run: (db: Database, now: Date) => Promise<unknown>;
}

export const SWEEPERS: Sweeper[] = [
  { name: "audit sealer", everyMs: 5_000, run: (db) => sealAuditLog(db) },
  { name: "idv expiry", everyMs: 15_000, run: (db, now) => sweepExpiredIdv(db, now) },
  // An idempotent DELETE of expired rows: safe on every instance at once without a lock.
  { name: "revoked access tokens", everyMs: 60_000, run: (db, now) => sweepRevokedAccessTokens(db, now) },
];

export function startSweepers(db: Database): () => void {
  const timers = SWEEPERS.map((s) => {
    let running = false;
    const t = setInterval(() => {
      if (running) return; // a slow run is never overlapped by the next tick
      running = true;
      s.run(db, new Date())
        .catch((err) => console.error(`${s.name}:`, err instanceof Error ? err.message : err))
        .finally(() => (running = false));
    }, s.everyMs);
    t.unref();
    return t;
  });
  return () => timers.forEach(clearInterval);
}
