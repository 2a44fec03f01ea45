/**
 * Prometheus metrics (prom-client), every name `tokendesk_*`. Domain code counts what happened
 * (`metrics().exchanges.inc(...)`), the front counts requests, and a few gauges are read when the
 * registry is scraped (pool) or refreshed by the instance's background loop (audit seal lag), so a
 * scrape never queries the database.
 *
 * Kept on globalThis: the front (server.ts) and Next's server bundle may each load their own copy of
 * lib/; both must count into one registry, or half the counters would never be scraped.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DatabaseHandle } from "@/db/client";

function build() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tokendesk_" });
  const r = [registry];
  const pool = { inflight: 0, max: 0 };
  const audit = { unsealed: null as number | null, newestSealAt: null as Date | null };

  const m = {
    registry,
    pool,
    audit,
    httpRequests: new Counter({
      name: "tokendesk_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"] as const,
      registers: r,
    }),
    // By route and status class, not by method and exact status as the counter above: every label
    // value multiplies the bucket lines a scrape renders, and with method × status the exposition of
    // 40 routes grew to 220 KB and 13 ms of CPU per scrape (65 KB, ~4 ms this way). The counter keeps
    // the exact status; a latency quantile is asked per route and class (the Grafana board sums by route).
    httpDuration: new Histogram({
      name: "tokendesk_http_request_duration_seconds",
      help: "Time to answer an HTTP request (until the response was handed to the socket), by route pattern and status class (2xx, 4xx, ...).",
      labelNames: ["route", "status_class"] as const,
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    signInTokensIssued: new Counter({
      name: "tokendesk_sign_in_tokens_issued_total",
      help: "Sign-in tokens minted, by environment and issuer type (api_key, staff).",
      labelNames: ["environment", "issuer"] as const,
      registers: r,
    }),
    signInTokensRedeemed: new Counter({
      name: "tokendesk_sign_in_tokens_redeemed_total",
      help: "Sign-in tokens redeemed at /oauth/token, by environment.",
      labelNames: ["environment"] as const,
      registers: r,
    }),
    signInTokensExpired: new Counter({
      name: "tokendesk_sign_in_tokens_expired_total",
      help: "Sign-in tokens that expired without being redeemed, counted when the janitor removes them, by environment.",
      labelNames: ["environment"] as const,
      registers: r,
    }),
    exchanges: new Counter({
      name: "tokendesk_token_exchanges_total",
      help: "Sign-in token exchanges at /oauth/token, by outcome (success or the OAuth error).",
      labelNames: ["outcome"] as const,
      registers: r,
    }),
    refreshes: new Counter({
      name: "tokendesk_token_refreshes_total",
      help: "SDK refresh-token grants, by outcome (success or the OAuth error).",
      labelNames: ["outcome"] as const,
      registers: r,
    }),
    reuseDetections: new Counter({
      name: "tokendesk_refresh_reuse_detections_total",
      help: "Refresh tokens presented again after rotation (the family is revoked), by kind (sdk, device).",
      labelNames: ["kind"] as const,
      registers: r,
    }),
    revocations: new Counter({
      name: "tokendesk_revocations_total",
      help: "Revocations, by what was revoked (sdk_session, access_token, api_key, device_tokens).",
      labelNames: ["kind"] as const,
      registers: r,
    }),
    migrations: new Counter({
      name: "tokendesk_migrations_total",
      help: "Migrations of SDK installations off Team API keys, by outcome (completed, rejected) and reason.",
      labelNames: ["outcome", "reason"] as const,
      registers: r,
    }),
    idvSessions: new Counter({
      name: "tokendesk_idv_sessions_total",
      help: "IDV sessions entering a status (created, submitted, expired, cancelled).",
      labelNames: ["status"] as const,
      registers: r,
    }),
    deviceLogins: new Counter({
      name: "tokendesk_device_logins_total",
      help: "Telematics device logins, by outcome (success, failure).",
      labelNames: ["outcome"] as const,
      registers: r,
    }),
    deviceRefreshes: new Counter({
      name: "tokendesk_device_refreshes_total",
      help: "Telematics device JWT refreshes, by outcome (success, failure).",
      labelNames: ["outcome"] as const,
      registers: r,
    }),
    rateLimitHits: new Counter({
      name: "tokendesk_rate_limit_hits_total",
      help: "Requests refused by a rate limit, by limit.",
      labelNames: ["limit"] as const,
      registers: r,
    }),
    auditEvents: new Counter({
      name: "tokendesk_audit_events_total",
      help: "Audit events written, by action and outcome.",
      labelNames: ["action", "outcome"] as const,
      registers: r,
    }),
    sweeperRuns: new Counter({
      name: "tokendesk_sweeper_runs_total",
      help: "Background job runs on this instance, by job and outcome (success, failure).",
      labelNames: ["sweeper", "outcome"] as const,
      registers: r,
    }),
    sweeperLastSuccess: new Gauge({
      name: "tokendesk_sweeper_last_success_timestamp_seconds",
      help: "When each background job last finished without error on this instance (Unix seconds).",
      labelNames: ["sweeper"] as const,
      registers: r,
    }),
    webhookFanoutRestores: new Counter({
      name: "tokendesk_webhook_fanout_restores_total",
      help: "Times the webhook fan-out found its cursor ahead of the cluster's transaction ids (the database restored into another cluster) and restarted from the new horizon.",
      registers: r,
    }),
    janitorRemoved: new Counter({
      name: "tokendesk_janitor_removed_total",
      help: "Rows removed (or archived and removed) by the retention janitor, by kind.",
      labelNames: ["kind"] as const,
      registers: r,
    }),
  };

  new Gauge({
    name: "tokendesk_db_pool_in_use",
    help: "Database connections of this process busy with a query or a transaction (PostgreSQL; the embedded database has one).",
    registers: r,
    collect() {
      this.set(Math.min(pool.inflight, pool.max || pool.inflight));
    },
  });
  new Gauge({
    name: "tokendesk_db_pool_waiting",
    help: "Queries and transactions of this process waiting for a free database connection.",
    registers: r,
    collect() {
      this.set(pool.max ? Math.max(0, pool.inflight - pool.max) : 0);
    },
  });
  new Gauge({
    name: "tokendesk_db_pool_max",
    help: "Size of this process's database pool (DATABASE_POOL_MAX).",
    registers: r,
    collect() {
      this.set(pool.max);
    },
  });
  new Gauge({
    name: "tokendesk_audit_unsealed_events",
    help: "Audit events not yet bound into a seal (read by each instance every few seconds).",
    registers: r,
    collect() {
      if (audit.unsealed !== null) this.set(audit.unsealed);
    },
  });
  new Gauge({
    name: "tokendesk_audit_newest_seal_age_seconds",
    help: "Age of the newest audit seal; grows when the sealer stops (the sealer runs every 5 s on one instance).",
    registers: r,
    collect() {
      if (audit.newestSealAt) this.set(Math.max(0, (Date.now() - audit.newestSealAt.getTime()) / 1000));
    },
  });
  return m;
}

export type Metrics = ReturnType<typeof build>;

const globalForMetrics = globalThis as unknown as { __tokendeskMetrics?: Metrics };

export function metrics(): Metrics {
  globalForMetrics.__tokendeskMetrics ??= build();
  return globalForMetrics.__tokendeskMetrics;
}

/** The Prometheus text exposition of every metric of this process. */
export async function scrapeMetrics(): Promise<{ contentType: string; body: string }> {
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** The outcome label of a thrown error: its OAuth `error` or domain `code` (a closed snake_case set), else `error`. */
export function outcomeOf(err: unknown): string {
  const e = err as { error?: unknown; code?: unknown } | null;
  const code = typeof e?.error === "string" ? e.error : e?.code;
  return typeof code === "string" && /^[a-z_]{1,40}$/.test(code) ? code : "error";
}

type OutcomeCounter = "exchanges" | "refreshes" | "deviceLogins" | "deviceRefreshes";

/**
 * `fn`, counting each call's outcome on `counter`: `success`, or the error it threw (see outcomeOf).
 * How the token endpoints' domain functions are exported, so every caller is counted.
 */
export function counted<A extends unknown[], T>(counter: OutcomeCounter, fn: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  return async (...args: A) => {
    try {
      const value = await fn(...args);
      metrics()[counter].inc({ outcome: "success" });
      return value;
    } catch (err) {
      metrics()[counter].inc({ outcome: outcomeOf(err) });
      throw err;
    }
  };
}

type CountedEvent = { action: string; outcome: string; environment: string | null; actorType: string; reason: string | null };

/** Audit actions that stand for a domain counter, and how each is counted. */
const COUNTED_ACTIONS: Record<string, (m: Metrics, e: CountedEvent) => void> = {
  "sign_in_token.issued": (m, e) => m.signInTokensIssued.inc({ environment: e.environment ?? "none", issuer: e.actorType }),
  "sign_in_token.redeemed": (m, e) => m.signInTokensRedeemed.inc({ environment: e.environment ?? "none" }),
  "refresh_token.reuse_detected": (m) => m.reuseDetections.inc({ kind: "sdk" }),
  "device.refresh_reuse_detected": (m) => m.reuseDetections.inc({ kind: "device" }),
  "sdk_session.revoked": (m) => m.revocations.inc({ kind: "sdk_session" }),
  "api_key.revoked": (m) => m.revocations.inc({ kind: "api_key" }),
  "device.tokens_revoked": (m) => m.revocations.inc({ kind: "device_tokens" }),
  "migration.completed": (m) => m.migrations.inc({ outcome: "completed", reason: "none" }),
  "migration.rejected": (m, e) => m.migrations.inc({ outcome: "rejected", reason: e.reason && /^[a-z_]{1,40}$/.test(e.reason) ? e.reason : "other" }),
  "idv_session.started": (m) => m.idvSessions.inc({ status: "created" }),
  "idv_session.submitted": (m) => m.idvSessions.inc({ status: "submitted" }),
  "idv_session.expired": (m) => m.idvSessions.inc({ status: "expired" }),
  "idv_session.cancelled": (m) => m.idvSessions.inc({ status: "cancelled" }),
};

/** Counts an audit event and the domain counter it stands for; recordAudit calls this for every event it writes. */
export function countAuditEvent(e: CountedEvent): void {
  const m = metrics();
  m.auditEvents.inc({ action: e.action, outcome: e.outcome });
  COUNTED_ACTIONS[e.action]?.(m, e);
}

interface CountableClient {
  unsafe: (...args: never[]) => Promise<unknown>;
  begin: (...args: never[]) => Promise<unknown>;
  reserve: (...args: never[]) => Promise<unknown>;
  options: { max: number };
}

/**
 * Counts what holds a connection of a postgres.js pool (statements outside transactions,
 * transactions, reserved connections), which postgres.js does not expose: in flight beyond the
 * pool size means waiting. Called once on each client the server opens.
 */
export function instrumentDatabase(handle: DatabaseHandle): void {
  if (handle.kind === "postgres") instrumentPool((handle.db as unknown as { $client: CountableClient }).$client);
  else metrics().pool.max = 1; // PGlite: one connection, queries queue inside it
}

function instrumentPool(client: CountableClient): void {
  const pool = metrics().pool;
  pool.max = client.options.max;
  const track = (p: Promise<unknown>) => {
    pool.inflight++;
    let done = false;
    const end = () => {
      if (!done) pool.inflight--;
      done = true;
    };
    // Promise.prototype.then, not the query's own: attaching must not start a lazy postgres.js query.
    Promise.prototype.then.call(p, end, end);
    return p;
  };
  const unsafe = client.unsafe.bind(client);
  const begin = client.begin.bind(client);
  client.unsafe = ((...args: never[]) => track(unsafe(...args))) as typeof client.unsafe;
  client.begin = ((...args: never[]) => track(begin(...args))) as typeof client.begin;
  const reserve = client.reserve.bind(client);
  client.reserve = (async (...args: never[]) => {
    const conn = (await reserve(...args)) as { release: () => void };
    pool.inflight++;
    const release = conn.release.bind(conn);
    let released = false;
    conn.release = () => {
      if (!released) pool.inflight--;
      released = true;
      release();
    };
    return conn;
  }) as typeof client.reserve;
}
