/**
 * Rate limits kept in the database, so every instance behind a load balancer counts against the
 * same bucket. A bucket is one row: how many attempts it admitted, since when, and until when it
 * refuses (`blocked_until`). `admit` is the one statement that both checks and counts: an UPSERT
 * whose update applies only while the bucket is not blocked, so of N concurrent attempts exactly as
 * many are admitted as the bucket has room for — the count is taken *before* the attempt is
 * checked, never after (a check-then-count lets every in-flight attempt through).
 *
 * Two shapes of limit:
 * - fixed window: `max` attempts per window; the max-th blocks the bucket until the window ends;
 * - progressive (`backoff`): `max` attempts freely, then each admitted attempt blocks the next one
 *   for a delay that doubles up to a cap, and the streak is forgotten only after `windowSeconds`
 *   of quiet. Nobody can lock an account for long by failing on purpose; a guesser slows to a crawl.
 *
 * Who is counted: the adapter passes "the client address" (`RequestMeta.clientAddress`: a trusted
 * proxy's header, or the socket's address); with none, per-address buckets are skipped rather than
 * shared by every client. Rows expire (`expires_at`) and the janitor deletes them (`sweepExpiredLimits`).
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { queryRows } from "@/db/client";
import type { RequestMeta } from "@/lib/context";
import { metrics } from "@/lib/metrics";

export interface Limit {
  /** Attempts admitted before the bucket blocks. */
  max: number;
  /** Fixed: the window's length. Progressive: how long a quiet bucket keeps its streak. */
  windowSeconds: number;
  /** Progressive delays after `max`: base, doubling with each further attempt, up to max. */
  backoff?: { baseSeconds: number; maxSeconds: number };
}

export interface Admission {
  admitted: boolean;
  /** Attempts the bucket has admitted in its window (this one included when admitted). */
  count: number;
  /** When not admitted: seconds until it admits again. When admitted: until a block it just started ends, else 0. */
  retryAfterSeconds: number;
  /** This attempt is the one that blocked the bucket. */
  blockedNow: boolean;
}

/** The address to count a client by, or null when the request's adapter knows none. */
export function clientAddressOf(meta: RequestMeta): string | null {
  return meta.clientAddress ?? meta.ip ?? null;
}

/** Keys built from what a client typed are hashed: a bucket key never stores a secret or a password. */
export function keyPart(value: string): string {
  return createHash("sha256").update(value).digest("base64url").slice(0, 22);
}

const secondsUntil = (t: Date, now: Date) => Math.max(1, Math.ceil((t.getTime() - now.getTime()) / 1000));

/**
 * Counts one attempt against `key` unless the bucket is blocked — atomically, in one statement:
 * concurrent attempts on one key queue on its row, and each sees the count the one before left.
 */
export async function admit(db: Executor, key: string, limit: Limit, now = new Date()): Promise<Admission> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const window = sql`make_interval(secs => ${limit.windowSeconds})`;
  const expired = sql`r.expires_at <= ${at}`;
  // The count and window start this attempt leaves, for an existing row and for a new one.
  const n = sql`(case when ${expired} then 1 else r.count + 1 end)`;
  const start = sql`(case when ${expired} then ${at} else r.window_start end)`;
  const blockAfter = (count: ReturnType<typeof sql>, windowStart: ReturnType<typeof sql>) =>
    limit.backoff
      ? sql`(case when ${count} >= ${limit.max}
               then ${at} + make_interval(secs => least(${limit.backoff.baseSeconds} * power(2, least(${count} - ${limit.max}, 30)), ${limit.backoff.maxSeconds}))
             end)`
      : sql`(case when ${count} >= ${limit.max} then ${windowStart} + ${window} end)`;
  const expiresAfter = (blocked: ReturnType<typeof sql>, windowStart: ReturnType<typeof sql>) =>
    limit.backoff ? sql`(coalesce(${blocked}, ${at}) + ${window})` : sql`(${windowStart} + ${window})`;

  const firstBlock = blockAfter(sql`1`, at);
  const [row] = await queryRows<{ count: number; blocked_until: string | Date | null }>(
    db,
    sql`insert into rate_limits as r (key, window_start, count, blocked_until, expires_at)
        values (${key}, ${at}, 1, ${firstBlock}, ${expiresAfter(firstBlock, at)})
        on conflict (key) do update set
          count = ${n},
          window_start = ${start},
          blocked_until = ${blockAfter(n, start)},
          expires_at = ${expiresAfter(blockAfter(n, start), start)}
        where ${expired} or r.blocked_until is null or r.blocked_until <= ${at}
        returning r.count, r.blocked_until`,
  );
  if (row) {
    const blockedUntil = row.blocked_until ? new Date(row.blocked_until) : null;
    return {
      admitted: true,
      count: Number(row.count),
      retryAfterSeconds: blockedUntil ? secondsUntil(blockedUntil, now) : 0,
      blockedNow: blockedUntil !== null,
    };
  }
  // Blocked: the update did not apply. Read how long for (a separate statement: the refusal path).
  const state = await readBucket(db, key, now);
  countHit(key);
  return { admitted: false, count: state.count, retryAfterSeconds: Math.max(1, state.retryAfterSeconds), blockedNow: false };
}

export interface LimitState {
  count: number;
  blocked: boolean;
  retryAfterSeconds: number;
}

/** A refusal, named by the key's kind (`device-login:ip:…` → device-login:ip): never the IP or account itself. */
function countHit(key: string): void {
  metrics().rateLimitHits.inc({ limit: key.split(":").slice(0, 2).join(":").slice(0, 60) });
}

async function readBucket(db: Executor, key: string, now: Date): Promise<LimitState> {
  const [row] = await queryRows<{ count: number; blocked_until: string | Date | null; expires_at: string | Date }>(
    db,
    sql`select count, blocked_until, expires_at from rate_limits where key = ${key}`,
  );
  if (!row || new Date(row.expires_at).getTime() <= now.getTime()) return { count: 0, blocked: false, retryAfterSeconds: 0 };
  const blockedUntil = row.blocked_until ? new Date(row.blocked_until) : null;
  const blocked = blockedUntil !== null && blockedUntil.getTime() > now.getTime();
  return { count: Number(row.count), blocked, retryAfterSeconds: blocked ? secondsUntil(blockedUntil, now) : 0 };
}

/** The state of `key` without counting an attempt (a blocked bucket counts as a refusal in the metrics). */
export async function peekLimit(db: Executor, key: string, now = new Date()): Promise<LimitState> {
  const state = await readBucket(db, key, now);
  if (state.blocked) countHit(key);
  return state;
}

/**
 * Gives back one admitted attempt that turned out fine (a sign-in that succeeded): a bucket counts
 * what might be guessing, and a colleague signing in is not. A block already started stays.
 */
export async function refund(db: Executor, key: string, now = new Date()): Promise<void> {
  await db.execute(sql`update rate_limits set count = greatest(count - 1, 0) where key = ${key} and expires_at > ${now.toISOString()}::timestamptz`);
}

export async function resetLimit(db: Executor, key: string): Promise<void> {
  await db.execute(sql`delete from rate_limits where key = ${key}`);
}

/** Forgets every bucket whose key starts with `prefix` (all of one account's per-address buckets). */
export async function resetLimitsWithPrefix(db: Executor, prefix: string): Promise<void> {
  await db.execute(sql`delete from rate_limits where starts_with(key, ${prefix})`);
}

/**
 * Failures that name nothing that exists (an unknown DeviceToken, an unknown email) are written to
 * the audit log one per address and window, not one per attempt: a flood of made-up credentials
 * leaves a bounded number of rows. Returns whether to write this one, and how many failures the
 * window has seen so far (say it in the event).
 */
export const SAMPLE_WINDOW_SECONDS = 600;
export async function sampleFailure(db: Executor, family: string, address: string | null, now = new Date()): Promise<{ record: boolean; count: number }> {
  const bucket = await admit(db, `sample:${family}:${address ?? "unknown-address"}`, { max: 2_000_000_000, windowSeconds: SAMPLE_WINDOW_SECONDS }, now);
  return { record: bucket.count === 1, count: bucket.count };
}

/**
 * Limits on failures only, for credentials nobody can guess (API keys, refresh and sign-in tokens):
 * a request is checked first, and only a failure is counted; once the bucket is full, failures are
 * answered 429 instead of 401/400 until it frees up. Successful traffic never touches a bucket,
 * so a busy backend is never slowed by a limit meant for failures. Each process remembers the
 * buckets it saw blocked, so a flood of failures costs no write once one is.
 */
export class FailureLimit {
  private readonly blocked = new Map<string, number>();

  constructor(readonly limit: Limit) {}

  /** Counts one failure against each key in turn (stopping at the first that refuses). */
  async fail(db: Executor, keys: string[], now = new Date()): Promise<Admission | null> {
    for (const key of keys) {
      const until = this.blocked.get(key);
      if (until !== undefined) {
        if (until > now.getTime()) {
          countHit(key);
          return { admitted: false, count: this.limit.max, retryAfterSeconds: secondsUntil(new Date(until), now), blockedNow: false };
        }
        this.blocked.delete(key);
      }
      const admission = await admit(db, key, this.limit, now);
      if (!admission.admitted) {
        this.remember(key, now.getTime() + admission.retryAfterSeconds * 1000);
        return admission;
      }
      if (admission.blockedNow) this.remember(key, now.getTime() + admission.retryAfterSeconds * 1000);
    }
    return null;
  }

  private remember(key: string, until: number): void {
    this.blocked.set(key, until);
    if (this.blocked.size > 10_000) this.blocked.delete(this.blocked.keys().next().value!);
  }

  /** For tests: forget what this process remembered. */
  forget(): void {
    this.blocked.clear();
  }
}

/**
 * Deletes buckets past their expiry (`expires_at`), in batches; returns how many. The janitor runs
 * it (lib/janitor, under its lock); a bucket still blocking is never expired, whatever its age.
 */
export async function sweepExpiredLimits(db: Executor, now = new Date(), batch = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await queryRows<{ key: string }>(
      db,
      sql`delete from rate_limits where key in (
            select key from rate_limits where expires_at < ${now.toISOString()}::timestamptz limit ${batch}
          ) returning key`,
    );
    total += deleted.length;
    if (deleted.length < batch) return total;
  }
}

/** "3 minutes" / "40 seconds": for messages people read. */
export function humanDuration(seconds: number): string {
  if (seconds >= 90) return `${Math.ceil(seconds / 60)} minutes`;
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}
