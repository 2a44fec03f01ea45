/**
 * Background work every server instance schedules. Each sweeper must be safe to run on several
 * instances at once (take a `pg_try_advisory_xact_lock` and return if another instance has it).
 * Add a domain's sweeper to SWEEPERS; bootstrap.ts starts them all. Each run is counted
 * (tokendesk_sweeper_runs_total, tokendesk_sweeper_last_success_timestamp_seconds) and a failure
 * is logged with its stack.
 */
import type { Database } from "@/db/client";
import { readAuditLag } from "@/lib/audit/lag";
import { sealAuditLog } from "@/lib/audit/seal";
import { sweepExpiredIdv } from "@/lib/idv/sweeper";
import { runJanitor } from "@/lib/janitor";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { sweepRevokedAccessTokens } from "@/lib/oauth/revoke";
import { rollUpActivity } from "@/lib/overview/activity";
import { sweepOldDeliveries } from "@/lib/webhooks/deliveries";

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
  // Retention (lib/janitor): an advisory lock makes one instance do each run; the others return at once.
  { name: "janitor", everyMs: 15 * 60_000, run: (db, now) => runJanitor(db, { now }) },
  // Every instance reads the seal lag for its own /metrics (two indexed reads), so a scrape never queries.
  { name: "audit lag", everyMs: 10_000, run: (db) => readAuditLag(db) },
  // The overview's activity per day (lib/overview/activity.ts): today and unsettled days recounted;
  // an advisory lock makes one instance count.
  { name: "activity rollup", everyMs: 15_000, run: (db, now) => rollUpActivity(db, now) },
  // Finished webhook deliveries older than 30 days: also an idempotent DELETE, bounded per run.
  { name: "old webhook deliveries", everyMs: 600_000, run: (db, now) => sweepOldDeliveries(db, now) },
];

/** One run of `s`, counted and logged; never throws. */
export async function runSweeper(s: Sweeper, db: Database, now = new Date()): Promise<void> {
  const m = metrics();
  try {
    await s.run(db, now);
    m.sweeperRuns.inc({ sweeper: s.name, outcome: "success" });
    m.sweeperLastSuccess.set({ sweeper: s.name }, Date.now() / 1000);
  } catch (err) {
    m.sweeperRuns.inc({ sweeper: s.name, outcome: "failure" });
    log().error({ err, sweeper: s.name }, `${s.name} failed`);
  }
}

export function startSweepers(db: Database): () => void {
  const timers = SWEEPERS.map((s) => {
    let running = false;
    const t = setInterval(() => {
      if (running) return; // a slow run is never overlapped by the next tick
      running = true;
      runSweeper(s, db).finally(() => (running = false));
    }, s.everyMs);
    t.unref();
    return t;
  });
  return () => timers.forEach(clearInterval);
}
