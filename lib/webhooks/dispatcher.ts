/**
 * The dispatcher: takes due deliveries from the outbox and POSTs them, signed, to their endpoints.
 * Every server process runs one (`startWebhookDispatcher`, started by lib/bootstrap.ts); the CLI
 * runs it only when asked (`tokendesk webhooks dispatch --once`). Each tick first fans the events
 * committed since the last one out to deliveries (lib/webhooks/outbox.ts; one instance at a time),
 * then claims what is due: an event's first attempt comes about one tick after its commit.
 *
 * Sharing the work between N instances: a claim is one statement that picks due rows with
 * `FOR UPDATE SKIP LOCKED` (so two dispatchers never pick the same row) and moves their
 * `next_attempt_at` ahead by a lease while it bumps `attempts`, then commits. No transaction stays
 * open while a request is in flight (PGlite has one connection; PostgreSQL should not hold locks
 * on a slow receiver). A dispatcher that dies mid-delivery leaves the row to be claimed again when
 * the lease ends: at-least-once, with the same `webhook-id`. A result is written only if
 * `attempts` is still the claimed one, so a late result never overwrites a newer claim.
 *
 * Outcomes: 2xx succeeds. Timeouts, network errors, 429 and 5xx are retried with exponential
 * backoff and jitter, the last time at `retry_until` (a day after the event). Other 4xx, redirects (never followed) and
 * destinations the SSRF guard refuses fail at once. An endpoint that has failed for a day with no
 * success in between (or whose delivery spent its whole day of retries that way) is disabled, with
 * an audit event; the console shows a banner.
 */
import { and, eq, isNull, lte, sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { dateOf } from "@/db/rows";
import { webhookEndpoints } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import { config } from "@/lib/config/env";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { signingSecrets } from "./endpoints";
import { fanOutAll } from "./outbox";
import { signWebhook } from "./signing";
import type { LookupAll } from "./ssrf";
import { type PostOutcome, postWebhook } from "./transport";

export const RETRY_BASE_MS = 10_000;
export const RETRY_MAX_DELAY_MS = 4 * 3600 * 1000;
/** An endpoint failing this long with no success in between is disabled. */
export const FAILING_DISABLE_AFTER_MS = 24 * 3600 * 1000;
/** How long a claim holds a delivery: far longer than one attempt can take. */
export const LEASE_MS = 5 * 60 * 1000;
export const DEFAULT_TIMEOUT_MS = 15_000;
const USER_AGENT = "tokendesk-webhooks/1";

export interface DispatchOptions {
  /** The clock, injectable for tests; the real one by default. */
  now?: () => Date;
  /** Deliveries claimed per statement. */
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  timeoutMs?: number;
  /** Defaults to WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate?: boolean;
  /** DNS for the SSRF guard (tests); the system resolver by default. */
  resolve?: LookupAll;
  random?: () => number;
}

export interface DispatchResult {
  claimed: number;
  succeeded: number;
  retrying: number;
  failed: number;
  /** Endpoints disabled in this run for failing a day. */
  disabledEndpoints: string[];
}

/** The delay before retry number `attempt` (the attempt that just failed, from 1): ×2 each time, ±25 % jitter, at most 4 h. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_MAX_DELAY_MS);
  return Math.round(base * (0.75 + random() * 0.5));
}

export type Verdict = "succeeded" | "retry" | "failed";

export function classifyOutcome(o: Pick<PostOutcome, "status" | "refused">): Verdict {
  if (o.refused) return "failed";
  if (o.status === null) return "retry"; // timeout or network error
  if (o.status >= 200 && o.status < 300) return "succeeded";
  if (o.status === 429 || o.status >= 500) return "retry";
  return "failed"; // other 4xx, 3xx (redirects are not followed), 1xx
}

interface Claimed {
  id: string;
  messageId: string;
  body: string;
  attempts: number;
  retryUntil: Date;
  firstAttemptAt: Date;
  claimedAt: Date;
  endpointId: string;
  url: string;
  secretEncrypted: string;
  previousSecretEncrypted: string | null;
  previousSecretExpiresAt: Date | null;
}

/** Claims up to `limit` due deliveries of enabled endpoints (see the header for why this shape). */
export async function claimDueDeliveries(db: Database, limit: number, now: Date): Promise<Claimed[]> {
  const at = now.toISOString();
  const lease = new Date(now.getTime() + LEASE_MS).toISOString();
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`update webhook_deliveries d
        set attempts = d.attempts + 1, next_attempt_at = ${lease}::timestamptz, last_attempt_at = ${at}::timestamptz,
            first_attempt_at = coalesce(d.first_attempt_at, ${at}::timestamptz)
        from webhook_endpoints e
        where d.id in (select c.id from webhook_deliveries c
                       join webhook_endpoints ce on ce.id = c.endpoint_id and ce.disabled_at is null
                       where c.status = 'pending' and c.next_attempt_at <= ${at}::timestamptz
                       order by c.next_attempt_at
                       limit ${limit}
                       for update of c skip locked)
          and e.id = d.endpoint_id
        returning d.id::text as id, d.message_id, d.body, d.attempts, d.retry_until, d.first_attempt_at, d.last_attempt_at, e.id::text as endpoint_id, e.url,
                  e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at`,
  );
  return rows.map((r) => ({
    id: String(r.id),
    messageId: String(r.message_id),
    body: String(r.body),
    attempts: Number(r.attempts),
    retryUntil: dateOf(r.retry_until)!,
    firstAttemptAt: dateOf(r.first_attempt_at)!,
    claimedAt: dateOf(r.last_attempt_at)!,
    endpointId: String(r.endpoint_id),
    url: String(r.url),
    secretEncrypted: String(r.secret_encrypted),
    previousSecretEncrypted: (r.previous_secret_encrypted as string | null) ?? null,
    previousSecretExpiresAt: dateOf(r.previous_secret_expires_at),
  }));
}

async function post(c: Claimed, at: Date, opts: DispatchOptions): Promise<PostOutcome> {
  let secrets: string[];
  try {
    secrets = signingSecrets(c, at);
  } catch {
    // TOKENDESK_SECRET is not the one the secret was stored with: an operator can fix that, so retry.
    return {
      status: null,
      error: "The endpoint's signing secret cannot be decrypted (was TOKENDESK_SECRET changed?).",
      refused: false,
      retryAfterSeconds: null,
      durationMs: 0,
    };
  }
  return postWebhook({
    url: c.url,
    // webhook-timestamp is the wall-clock time of this attempt (receivers refuse stale ones), whatever
    // clock schedules the attempts.
    headers: { "content-type": "application/json", "user-agent": USER_AGENT, ...signWebhook(secrets, c.messageId, new Date(), c.body) },
    body: c.body,
    timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    allowPrivate: opts.allowPrivate ?? config().webhookAllowPrivate,
    resolve: opts.resolve,
  });
}

/** Writes an attempt's result (if the claim is still ours) and the endpoint's streak; returns the verdict. */
async function recordResult(
  db: Database,
  c: Claimed,
  outcome: PostOutcome,
  now: Date,
  random: () => number,
): Promise<{ verdict: Verdict; gaveUp: boolean; endpointFailingSince: Date | null }> {
  let verdict = classifyOutcome(outcome);
  const at = now.toISOString();
  const error = outcome.error ?? (verdict === "succeeded" ? null : `The endpoint answered ${outcome.status}.`);
  if (verdict === "succeeded") {
    await queryRows(
      db,
      sql`with d as (
            update webhook_deliveries set status = 'succeeded', next_attempt_at = null, delivered_at = ${at}::timestamptz,
                   last_response_status = ${outcome.status}, last_error = null, last_duration_ms = ${outcome.durationMs}
            where id = ${c.id}::uuid and attempts = ${c.attempts} and status = 'pending'
            returning endpoint_id)
          update webhook_endpoints e set failing_since = null, last_success_at = ${at}::timestamptz
          from d
          where e.id = d.endpoint_id
            and (e.failing_since is not null or e.last_success_at is null or e.last_success_at < ${at}::timestamptz - interval '1 minute')`,
    );
    return { verdict, gaveUp: false, endpointFailingSince: null };
  }
  let next: Date | null = null;
  if (verdict === "retry") {
    const delay = Math.max(retryDelayMs(c.attempts, random), (outcome.retryAfterSeconds ?? 0) * 1000);
    if (now.getTime() >= c.retryUntil.getTime()) {
      verdict = "failed"; // that was the last attempt, a day after the event
    } else {
      // The last retry lands on retry_until itself, so an endpoint that failed all day has failed
      // for a full day by then (and is disabled by that attempt).
      next = new Date(Math.min(now.getTime() + Math.min(delay, RETRY_MAX_DELAY_MS), c.retryUntil.getTime()));
    }
  }
  const gaveUp = verdict === "failed" && classifyOutcome(outcome) === "retry";
  const lastError = gaveUp ? `Gave up after ${c.attempts} attempts over a day. ${error}` : error;
  const [endpoint] = await queryRows<{ failing_since: unknown }>(
    db,
    sql`with d as (
          update webhook_deliveries set status = ${verdict === "retry" ? "pending" : "failed"}, next_attempt_at = ${next?.toISOString() ?? null}::timestamptz,
                 last_response_status = ${outcome.status}, last_error = ${lastError?.slice(0, 500) ?? null}, last_duration_ms = ${outcome.durationMs}
          where id = ${c.id}::uuid and attempts = ${c.attempts} and status = 'pending'
          returning endpoint_id)
        update webhook_endpoints e set failing_since = coalesce(e.failing_since, ${c.claimedAt.toISOString()}::timestamptz)
        from d
        where e.id = d.endpoint_id
        returning e.failing_since`,
  );
  return { verdict, gaveUp, endpointFailingSince: endpoint ? dateOf(endpoint.failing_since) : null };
}

/** Disables an endpoint that has failed for a day (if it still has and is still enabled), audited. */
async function disableFailingEndpoint(db: Database, endpointId: string, failingSince: Date, now: Date, lastError: string | null): Promise<boolean> {
  return db.transaction(async (tx) => {
    // Only if nothing succeeded meanwhile (a success clears failing_since).
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ disabledAt: now, disabledReason: "failing", updatedAt: now })
      .where(and(eq(webhookEndpoints.id, endpointId), isNull(webhookEndpoints.disabledAt), lte(webhookEndpoints.failingSince, failingSince)))
      .returning();
    if (!row) return false;
    await recordAudit(
      tx,
      {
        actor: systemActor("webhook dispatcher"),
        action: "webhook_endpoint.auto_disabled",
        target: { type: "webhook_endpoint", id: row.id },
        environment: row.environment,
        outcome: "failure",
        reason: "failing_for_a_day",
        details: { url: row.url, failingSince: row.failingSince?.toISOString() ?? null, lastError },
        occurredAt: now,
      },
      NO_REQUEST,
    );
    return true;
  });
}

/** One claimed delivery: sign, POST, record; disables its endpoint if that failure completes a failing day. */
async function deliverClaimed(db: Database, c: Claimed, opts: DispatchOptions, result: DispatchResult): Promise<void> {
  const clock = opts.now ?? (() => new Date());
  const outcome = await post(c, clock(), opts);
  const now = clock();
  const { verdict, gaveUp, endpointFailingSince } = await recordResult(db, c, outcome, now, opts.random ?? Math.random);
  result[verdict === "succeeded" ? "succeeded" : verdict === "retry" ? "retrying" : "failed"]++;
  // Failing for a day: no success for a day, or a delivery that spent its whole day of retries
  // with no success in between (the streak began no later than its first attempt).
  const failedAllDay =
    endpointFailingSince !== null &&
    (now.getTime() - endpointFailingSince.getTime() >= FAILING_DISABLE_AFTER_MS || (gaveUp && endpointFailingSince.getTime() <= c.firstAttemptAt.getTime()));
  if (verdict !== "succeeded" && failedAllDay) {
    if (await disableFailingEndpoint(db, c.endpointId, endpointFailingSince, now, outcome.error)) result.disabledEndpoints.push(c.endpointId);
  }
}

const emptyResult = (): DispatchResult => ({ claimed: 0, succeeded: 0, retrying: 0, failed: 0, disabledEndpoints: [] });

/**
 * Delivers everything due now, `concurrency` requests at a time, and returns when nothing due is
 * left (retries are scheduled later, so they end the run). The CLI's `dispatch --once` and tests.
 */
export async function dispatchDueDeliveries(db: Database, opts: DispatchOptions = {}): Promise<DispatchResult> {
  const result = emptyResult();
  await fanOutAll(db);
  const batchSize = opts.batchSize ?? 100;
  const concurrency = opts.concurrency ?? 16;
  const clock = opts.now ?? (() => new Date());
  for (;;) {
    const claimed = await claimDueDeliveries(db, batchSize, clock());
    result.claimed += claimed.length;
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) await deliverClaimed(db, claimed[next++]!, opts, result);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker));
    if (claimed.length < batchSize) return result;
  }
}

export interface RunningDispatcher {
  /** What this loop has done since it started. */
  stats(): DispatchResult;
  stop(): Promise<void>;
}

/**
 * The background loop of a server process: keeps up to `concurrency` deliveries in flight, claims
 * more as slots free up, polls every `pollMs` when idle. Errors are logged and the loop goes on;
 * nothing here runs on a request's path.
 */
export function startWebhookDispatcher(db: Database, opts: DispatchOptions & { pollMs?: number } = {}): RunningDispatcher {
  const concurrency = opts.concurrency ?? 16;
  const pollMs = opts.pollMs ?? 1000;
  const clock = opts.now ?? (() => new Date());
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let pumping = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let lastFanOut = Number.NEGATIVE_INFINITY;
  const result = emptyResult();

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(pump, ms);
    timer.unref();
  };

  async function pump(): Promise<void> {
    if (stopped) return;
    if (pumping) {
      again = true; // a slot freed while this pump was claiming: look again right after it
      return;
    }
    pumping = true;
    again = false;
    try {
      // A pump runs on every freed slot while deliveries flow; the fan-out once a poll interval.
      if (Date.now() - lastFanOut >= pollMs) {
        lastFanOut = Date.now();
        await fanOutAll(db);
      }
      while (!stopped && inFlight.size < concurrency) {
        const claimed = await claimDueDeliveries(db, concurrency - inFlight.size, clock());
        if (claimed.length === 0) break;
        result.claimed += claimed.length;
        for (const c of claimed) {
          const p: Promise<void> = deliverClaimed(db, c, opts, result)
            .catch((err) => console.error("webhook dispatcher:", err instanceof Error ? err.message : err))
            .finally(() => {
              inFlight.delete(p);
              schedule(0); // a slot is free: claim the next one now
            });
          inFlight.add(p);
        }
      }
    } catch (err) {
      console.error("webhook dispatcher:", err instanceof Error ? err.message : err);
    } finally {
      pumping = false;
    }
    schedule(again ? 0 : pollMs);
  }

  schedule(0);
  return {
    stats: () => ({ ...result, disabledEndpoints: [...result.disabledEndpoints] }),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
