/**
 * Fixed-window rate limits kept in the database, so every instance behind a load balancer counts
 * against the same window. One UPSERT both counts and restarts an expired window.
 */
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { queryRows } from "@/db/client";
import { rateLimits } from "@/db/schema";
import { metrics } from "@/lib/metrics";

export interface Limit {
  max: number;
  windowSeconds: number;
}

export interface LimitState {
  count: number;
  limited: boolean;
  retryAfterSeconds: number;
}

function stateOf(count: number, windowStart: Date, limit: Limit, now: Date): LimitState {
  const windowEnd = windowStart.getTime() + limit.windowSeconds * 1000;
  const retryAfterSeconds = Math.max(1, Math.ceil((windowEnd - now.getTime()) / 1000));
  return { count, limited: count >= limit.max, retryAfterSeconds };
}

/** A refusal, named by the key's kind (`device-login:ip:…` → device-login:ip): never the IP or account itself. */
function countHit(key: string): void {
  metrics().rateLimitHits.inc({ limit: key.split(":").slice(0, 2).join(":").slice(0, 60) });
}

/** Counts one event against `key` and returns the state after it. */
export async function hitLimit(db: Executor, key: string, limit: Limit, now = new Date()): Promise<LimitState> {
  const expiredBefore = new Date(now.getTime() - limit.windowSeconds * 1000);
  const [row] = await queryRows<{ count: number; window_start: string | Date }>(
    db,
    sql`insert into rate_limits (key, window_start, count) values (${key}, ${now.toISOString()}::timestamptz, 1)
        on conflict (key) do update set
          count = case when rate_limits.window_start <= ${expiredBefore.toISOString()}::timestamptz then 1 else rate_limits.count + 1 end,
          window_start = case when rate_limits.window_start <= ${expiredBefore.toISOString()}::timestamptz then excluded.window_start else rate_limits.window_start end
        returning count, window_start`,
  );
  const state = stateOf(Number(row!.count), new Date(row!.window_start), limit, now);
  if (state.count > limit.max) countHit(key);
  return state;
}

/** The state of `key` without counting anything. */
export async function peekLimit(db: Executor, key: string, limit: Limit, now = new Date()): Promise<LimitState> {
  const [row] = await db.select().from(rateLimits).where(eq(rateLimits.key, key));
  if (!row || row.windowStart.getTime() + limit.windowSeconds * 1000 <= now.getTime()) {
    return { count: 0, limited: false, retryAfterSeconds: 0 };
  }
  const state = stateOf(row.count, row.windowStart, limit, now);
  if (state.limited) countHit(key);
  return state;
}

export async function resetLimit(db: Executor, key: string): Promise<void> {
  await db.delete(rateLimits).where(eq(rateLimits.key, key));
}

/** "3 minutes" / "40 seconds": for messages people read. */
export function humanDuration(seconds: number): string {
  if (seconds >= 90) return `${Math.ceil(seconds / 60)} minutes`;
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}
