/**
 * `npm run bench` — the machine API over HTTP, each operation through the lean front (server.ts →
 * server/front.ts → Hono) and through the old Next.js route (a second server with
 * TOKENDESK_FRONT=next), in the same run, against the same database, plus the peer.
 *
 *   npm run bench                      # PostgreSQL (throwaway, durable commits), full run
 *   npm run bench -- --quick           # shorter runs, fewer tokens
 *   npm run bench -- --embedded        # the same suite on the embedded database (PGlite)
 *   npm run bench -- --no-build        # reuse the build in .next-bench
 *   npm run bench -- --scale [--users 1000000 --events 10000000]   # data at scale (scripts/bench/scale.ts)
 *   options: --connections 8,64  --duration 3  --amount 900  --rounds 3  --port 3700  --no-peer  --no-next
 *            --rounds N         each figure is the median of N rounds (req/s, CPU per request; latency
 *                               percentiles over the rounds' pooled latencies), the fronts' rounds
 *                               interleaved; a round lasts --duration seconds, or --amount requests
 *                               for single-use tokens (quick: 3 rounds of 2 s / 400 requests)
 *            --paced-load 0.6   the open-loop runs' offered rate, as a share of the lean path's
 *                               closed-loop rate at the first connection count (0 skips them)
 *            --only <regex>     run only the operations whose name matches (the empty route always runs)
 *            --profile          write V8 CPU profiles of both servers to bench/tmp/profiles/<front>
 *                               (summarise with `node scripts/bench/profile-summary.mjs <file>`)
 *            --dist-dir DIR     the Next build to run (default .next-bench)
 *            --no-baselines     skip the in-process baselines (raw INSERT, jose, audit and webhook costs)
 *            --webhook-secs 8 --webhook-rounds 3   length and number of the webhook outbox CPU rounds
 *            --node-args "…"    extra flags for the measured servers' Node processes (e.g. GC settings)
 *            --warm 2000        requests of each operation per front before its rounds (V8's warm-up)
 *            --sample-waits     during open-loop rounds, sample PostgreSQL's backends every 10 ms for
 *                               what they wait on (costs a little CPU of its own: off by default)
 *
 * Order: throwaway PostgreSQL → build → prepare data in-process with the domain functions (system
 * actor) → in-process baselines (raw INSERT, jose verify, audit cost, webhook outbox cost and
 * delivery throughput) → both servers → for each
 * operation and connection count, a closed-loop autocannon run on each front, one after the other
 * (the pair is measured minutes apart at most) → open-loop runs of the lean front at a fixed offered
 * rate with each connection count → oidc-provider peer → results in bench/results/<date>-<mode>.json.
 * On the embedded database (one process owns the data directory) the fronts run one after the other.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as jose from "jose";
import {
  BENCH_SECRET,
  buildIfNeeded,
  combineRounds,
  flag,
  type HttpRun,
  type HttpSpec,
  httpRun,
  log,
  machine,
  option,
  pacedRun,
  pool,
  ROOT,
  type Server,
  startNext,
  stats,
  timedLoop,
  treeCpuMs,
  treeCpuPreciseMs,
  writeResults,
} from "./lib";

if (flag("scale")) {
  await import("./scale");
  process.exit(0);
}

const QUICK = flag("quick");
const EMBEDDED = flag("embedded");
const CONNECTIONS = option("connections", "8,64")
  .split(",")
  .map((c) => Number(c.trim()))
  .filter((c) => c > 0);
// One short run of an operation swings ±10–20 % on this shared machine (someone's build starts):
// each figure is the median of ROUNDS rounds, interleaved with the other fronts' rounds.
const ROUNDS = Math.max(1, Number(option("rounds", "3")));
const DURATION = Number(option("duration", QUICK ? "2" : "3"));
const AMOUNT = Number(option("amount", QUICK ? "400" : "900"));
const PACED_LOAD = Number(option("paced-load", "0.6"));
const PACED_AMOUNT = Math.round(AMOUNT / 2);
const PORT = Number(option("port", "3700"));
const ONLY = process.argv.includes("--only") ? new RegExp(option("only", ""), "i") : null;
const PROFILE = flag("profile");
const NODE_ARGS = option("node-args", "").split(" ").filter(Boolean);
const SAMPLE_WAITS = flag("sample-waits");
const BASELINES = !flag("no-baselines");
const WITH_NEXT = !flag("no-next");
// Every port the run listens on is PORT + 0..5 (the fronts, the peer, the floor), so one --port keeps a run in its range.
const PEER_PORT = PORT + 4;
/**
 * Requests of each operation spent on warm-up, per front (and single-use tokens prepared for them).
 * The figures are a long-running instance's: V8 keeps optimising a path for thousands of calls. With
 * 40, one server's exchange rounds of 1,000 fell 1.83 → 1.39 → 1.26 → 1.16 → 1.16 → 1.19 → 1.11 ms
 * of CPU (its compiler threads took 0.58 ms an exchange in the first 1,000, 0.12 from the third on).
 */
const WARM = Number(option("warm", "2000"));
/**
 * --ref DIR: a third front, "ref", runs server.ts from another checkout (e.g. `git worktree add
 * /tmp/ref main`, sharing this tree's node_modules and build) on the same data: before/after
 * figures of the lean path from one run instead of two runs minutes or hours apart.
 */
const REF_DIR = process.argv.includes("--ref") ? path.resolve(option("ref", "")) : null;
type Front = "lean" | "next" | "ref";
const FRONTS: Front[] = ["lean", ...(WITH_NEXT ? (["next"] as const) : []), ...(REF_DIR ? (["ref"] as const) : [])];
/** Closed-loop runs per operation and front, plus the open-loop ones (lean only). */
const CLOSED_RUNS = FRONTS.length * CONNECTIONS.length;
const PACED_RUNS = PACED_LOAD > 0 ? CONNECTIONS.length : 0;
/** Single-use tokens each single-use operation needs. */
const SINGLE_USE = ROUNDS * (CLOSED_RUNS * AMOUNT + PACED_RUNS * PACED_AMOUNT) + FRONTS.length * WARM;

process.chdir(ROOT);
const tmpDir = path.join(ROOT, "bench", "tmp");
fs.mkdirSync(tmpDir, { recursive: true });

const cleanups: Array<() => unknown> = [];
async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error("cleanup:", err);
    }
  }
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
process.on("SIGTERM", () => void cleanup().then(() => process.exit(143)));

/** Hands out consecutive slices of a list of single-use tokens; never the same one twice. */
class Supply<T> {
  private next = 0;
  constructor(
    readonly name: string,
    private readonly items: T[],
  ) {}
  take(n: number): T[] {
    if (this.next + n > this.items.length) throw new Error(`${this.name}: ${n} more wanted, ${this.items.length - this.next} left`);
    const out = this.items.slice(this.next, this.next + n);
    this.next += n;
    return out;
  }
}

const t0 = performance.now();
const results: Record<string, unknown> = {
  mode: EMBEDDED ? "embedded" : "postgres",
  quick: QUICK,
  machine: machine(),
  config: { connections: CONNECTIONS, rounds: ROUNDS, durationS: DURATION, amount: AMOUNT, pacedAmount: PACED_AMOUNT, pacedLoad: PACED_LOAD, fronts: FRONTS },
};

try {
  // ---------------------------------------------------------------------------------------------
  // Database
  // ---------------------------------------------------------------------------------------------
  const env: Record<string, string> = { TOKENDESK_SECRET: BENCH_SECRET };
  let pgUrl: string | null = null;
  let pgDir: string | null = null;
  if (EMBEDDED) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tokendesk-bench-pglite-"));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    env.TOKENDESK_DATA_DIR = dataDir;
    log(`embedded database in ${dataDir}`);
  } else {
    const { startThrowawayPostgres } = await import("../pg-throwaway.mjs");
    const pg = await startThrowawayPostgres({ durable: true });
    cleanups.push(() => pg.stop());
    pgUrl = pg.url as string;
    pgDir = pg.dir as string;
    env.DATABASE_URL = pgUrl;
    log(`throwaway PostgreSQL (durable: fsync on, synchronous_commit on) at ${pgUrl}`);
  }
  // The tokens prepared in-process carry iss = PUBLIC_URL; both fronts are given the same one.
  env.PUBLIC_URL = `http://127.0.0.1:${PORT}`;
  Object.assign(process.env, env);
  results.loadAverageAtStart = os.loadavg();

  buildIfNeeded();

  // Domain modules read configuration from process.env: import them only now.
  const { openDatabase, migrateDatabase, queryRows } = await import("@/db/client");
  const { sql } = await import("drizzle-orm");
  const { systemActor, NO_REQUEST } = await import("@/lib/context");
  const { createApiKey, API_KEY_SCOPES } = await import("@/lib/api-keys");
  const { createUser } = await import("@/lib/users");
  const { issueSignInToken } = await import("@/lib/sign-in-tokens");
  const { exchangeSignInToken } = await import("@/lib/oauth/exchange");
  const { SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } = await import("@/lib/oauth/tokens");
  const { ensureSigningKey } = await import("@/lib/oauth/signing-keys");
  const { createWorkflow } = await import("@/lib/idv/workflows");
  const { mintEphemeralToken } = await import("@/lib/idv/sessions");
  const { createInstance, findInstance, registerDevice } = await import("@/lib/devices");
  const { recordAudit } = await import("@/lib/audit/record");

  const PREP_CONC = EMBEDDED ? 1 : 16;
  const handle = await openDatabase({ databaseUrl: pgUrl, dataDir: EMBEDDED ? env.TOKENDESK_DATA_DIR! : null, maxConnections: PREP_CONC });
  let handleOpen = true;
  cleanups.push(() => (handleOpen ? handle.close() : undefined));
  await migrateDatabase(handle);
  await ensureSigningKey(handle.db);
  const db = handle.db;
  const sys = systemActor("bench");
  const wanted = (name: string) => !ONLY || ONLY.test(name);

  // ---------------------------------------------------------------------------------------------
  // Prepare data in-process (the server owns the embedded data dir once started). Single-use
  // tokens: enough for every run of every front and connection count, plus warm-ups.
  // ---------------------------------------------------------------------------------------------
  const tp = performance.now();
  const { key } = await createApiKey(db, sys, { name: "bench key", environment: "sandbox", region: "us", scopes: [...API_KEY_SCOPES] }, NO_REQUEST);
  const N_USERS = 200;
  const users = await pool(N_USERS, PREP_CONC, (i) =>
    createUser(
      db,
      sys,
      { client_user_id: `bench-${i}-${randomBytes(4).toString("hex")}`, email: `bench${i}@example.test`, environment: "sandbox", region: "us" },
      NO_REQUEST,
    ),
  );
  const userIds = users.map((u) => u.id);
  log(`prepared ${N_USERS} users; ${SINGLE_USE} single-use tokens of each kind wanted`);
  const count = (name: string) => (wanted(name) ? SINGLE_USE : 0);

  const signInTokens = new Supply(
    "sign-in tokens",
    await pool(count("token exchange"), PREP_CONC, async (i) => (await issueSignInToken(db, sys, userIds[i % N_USERS]!, {}, NO_REQUEST)).signInToken),
  );
  log(`prepared sign-in tokens for the exchange runs`);

  const nSessions = count("refresh (rotation)") + 50;
  const sessions = await pool(nSessions, PREP_CONC, async (i) => {
    const t = await issueSignInToken(db, sys, userIds[i % N_USERS]!, {}, NO_REQUEST);
    const r = await exchangeSignInToken(db, { signInToken: t.signInToken, installationId: `bench-inst-${i}` }, NO_REQUEST);
    return { userId: t.userId, accessToken: r.access_token, refreshToken: r.refresh_token! };
  });
  const bearerSessions = sessions.slice(nSessions - 50); // 50 sessions whose access tokens the bearer runs use
  const refreshTokens = new Supply(
    "refresh tokens",
    sessions.slice(0, nSessions - 50).map((s) => s.refreshToken),
  );
  log(`prepared ${nSessions} SDK sessions (refresh tokens used once each)`);

  const wf = await createWorkflow(db, sys, { name: "bench workflow", steps: ["form"] }, NO_REQUEST);
  const ephemeral = new Supply(
    "ephemeral tokens",
    await pool(
      count("IDV session start"),
      PREP_CONC,
      async () => (await mintEphemeralToken(db, sys, { environment: "sandbox", region: "us" }, NO_REQUEST)).authorization,
    ),
  );
  log(`prepared ephemeral tokens (workflow ${wf.id})`);

  const { instance: instView, instanceKey } = await createInstance(db, sys, { name: "bench instance", environment: "sandbox" }, NO_REQUEST);
  const instance = (await findInstance(db, instView.id))!;
  const refreshDevices = new Supply(
    "device refresh tokens",
    await pool(count("device refresh"), PREP_CONC, (i) => registerDevice(db, instance, { UserFields: { ClientId: `bench-r-${i}` } } as never, NO_REQUEST)),
  );
  // Login is rate-limited to 10 per DeviceToken per 10 min: each login device is used 8 times, by one run.
  const loginDevices = new Supply(
    "login devices",
    await pool(Math.ceil(count("device login") / 8) + CLOSED_RUNS + PACED_RUNS + FRONTS.length, PREP_CONC, (i) =>
      registerDevice(db, instance, { UserFields: { ClientId: `bench-l-${i}` } } as never, NO_REQUEST),
    ),
  );
  log(`prepared instance ${instance.id} with its devices`);
  const prepSeconds = (performance.now() - tp) / 1000;
  log(`data prepared in ${prepSeconds.toFixed(1)} s`);

  // ---------------------------------------------------------------------------------------------
  // In-process baselines: raw INSERT through the same driver, jose ES256 verify, the audit write
  // ---------------------------------------------------------------------------------------------
  const baselines: Record<string, unknown> = {};
  const inSecs = QUICK ? 3 : 6;
  // CPU (this process + every PostgreSQL process) per call of `fn`, one caller in sequence.
  const pgPid = pgDir ? Number(fs.readFileSync(path.join(pgDir, "data", "postmaster.pid"), "utf8").split("\n")[0]) : null;
  const cpuPerOp = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await fn();
    const c0 = process.cpuUsage();
    const p0 = treeCpuPreciseMs(pgPid);
    let n = 0;
    const end = performance.now() + inSecs * 1000;
    while (performance.now() < end) {
      await fn();
      n++;
    }
    const c = process.cpuUsage(c0);
    return Math.round((((c.user + c.system) / 1000 + (treeCpuPreciseMs(pgPid) - p0)) / n) * 1000) / 1000;
  };
  /**
   * CPU per call of each of `fns` (this process + every PostgreSQL process), measured interleaved:
   * batches of each in turn until `secs` have passed, so a change in the machine's load weighs on
   * all of them alike and their differences hold. Each figure is the median of its batches' CPU
   * per call, not their mean: PostgreSQL's background work (autovacuum of the growing tables, a
   * checkpoint, the WAL writer) lands in whichever batch it happens to overlap and would otherwise
   * decide a difference of a tenth of a millisecond.
   */
  const cpuCompare = async <K extends string>(fns: Record<K, () => Promise<unknown>>, secs: number, batch = 10): Promise<Record<K, number>> => {
    const names = Object.keys(fns) as K[];
    for (const n of names) for (let i = 0; i < 20; i++) await fns[n]();
    const perBatch = new Map<K, number[]>(names.map((n) => [n, []]));
    const end = performance.now() + secs * 1000;
    while (performance.now() < end) {
      for (const n of names) {
        const p0 = treeCpuPreciseMs(pgPid);
        const c0 = process.cpuUsage();
        for (let i = 0; i < batch; i++) await fns[n]();
        const c = process.cpuUsage(c0);
        perBatch.get(n)!.push(((c.user + c.system) / 1000 + (treeCpuPreciseMs(pgPid) - p0)) / batch);
      }
    }
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    return Object.fromEntries(names.map((n) => [n, median(perBatch.get(n)!)])) as Record<K, number>;
  };
  // --no-baselines: straight to the HTTP runs (profiling one operation, say).
  if (BASELINES) {
    if (!EMBEDDED) {
      const postgres = (await import("postgres")).default;
      for (const conns of [1, 8]) {
        const client = postgres(pgUrl!, { max: conns, onnotice: () => {} });
        await client`create table if not exists bench_scratch (id bigserial primary key, payload text not null, created_at timestamptz not null default now())`;
        const r = await timedLoop(inSecs, conns, async () => {
          await client`insert into bench_scratch (payload) values (${"x".repeat(64)})`;
        });
        await client.end({ timeout: 2 });
        baselines[`rawInsert_${conns}conn`] = r;
        log(`raw INSERT, ${conns} connection(s): ${r.opsPerSec} ops/s  p50 ${r.latencyMs.p50} p95 ${r.latencyMs.p95} ms`);
      }
      const [v] = await queryRows<{ v: string }>(db, sql`select version() as v`);
      (results.machine as Record<string, unknown>).postgres = v?.v ?? null;
    } else {
      // PGlite is a single connection: "8 connections" are 8 concurrent callers it serialises.
      const { PGlite } = await import("@electric-sql/pglite");
      const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), "tokendesk-bench-scratch-"));
      cleanups.push(() => fs.rmSync(scratchDir, { recursive: true, force: true }));
      const lite = await PGlite.create({ dataDir: scratchDir });
      await lite.exec("create table bench_scratch (id bigserial primary key, payload text not null, created_at timestamptz not null default now())");
      for (const conns of [1, 8]) {
        const r = await timedLoop(inSecs, conns, async () => {
          await lite.query("insert into bench_scratch (payload) values ($1)", ["x".repeat(64)]);
        });
        baselines[`rawInsert_${conns}conn`] = r;
        log(`raw INSERT (PGlite), ${conns} caller(s): ${r.opsPerSec} ops/s  p50 ${r.latencyMs.p50} ms`);
      }
      await lite.close();
      const [v] = await queryRows<{ v: string }>(db, sql`select version() as v`);
      (results.machine as Record<string, unknown>).postgres = `PGlite: ${v?.v ?? "?"}`;
    }
    {
      const { privateKey, publicKey } = await jose.generateKeyPair("ES256");
      const jwt = await new jose.SignJWT({ sid: "s", environment: "sandbox", region: "us" })
        .setProtectedHeader({ alg: "ES256", kid: "k" })
        .setIssuer("http://127.0.0.1")
        .setAudience("tokendesk")
        .setSubject("u")
        .setIssuedAt()
        .setExpirationTime("1h")
        .setJti("j")
        .sign(privateKey);
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < 2000) {
        await jose.jwtVerify(jwt, publicKey, { issuer: "http://127.0.0.1", audience: "tokendesk" });
        n++;
      }
      const ops = Math.round(n / ((performance.now() - start) / 1000));
      baselines.joseVerifyES256 = { opsPerSec: ops, usPerOp: Math.round((1e6 / ops) * 10) / 10 };
      log(`jose ES256 verify: ${ops} ops/s`);
    }
    {
      // The audit write's share of a mint, in-process on the same pool and concurrency:
      //  (a) the whole domain function issueSignInToken (row lock, insert, audit, durable commit);
      //  (b) the audit write alone, timed around recordAudit() inside a transaction that commits,
      //      i.e. the HMAC + the INSERT round trip a mint pays for it (its commit is shared with
      //      the mint's own and costs nothing extra);
      //  (c) a transaction with the same mint-shaped audit insert twice vs once: the marginal cost
      //      including any extra WAL the second row brings to the commit.
      const conc = EMBEDDED ? 1 : 8;
      const mint = await timedLoop(inSecs, conc, async (w) => {
        await issueSignInToken(db, sys, userIds[w]!, {}, NO_REQUEST);
      });
      const auditInput = (uid: string) => ({
        actor: sys,
        action: "sign_in_token.issued" as const,
        target: { type: "user" as const, id: uid },
        environment: "sandbox",
        reason: null,
        details: { signInTokenId: randomBytes(16).toString("hex"), userId: uid, expiresInSeconds: 600, expiresAt: new Date().toISOString() },
      });
      const stmt: number[] = [];
      const oneAudit = await timedLoop(inSecs, conc, async (w) => {
        await db.transaction(async (tx) => {
          const a = performance.now();
          await recordAudit(tx, auditInput(userIds[w]!) as never, NO_REQUEST);
          stmt.push(performance.now() - a);
        });
      });
      const twoAudits = await timedLoop(inSecs, conc, async (w) => {
        await db.transaction(async (tx) => {
          await recordAudit(tx, auditInput(userIds[w]!) as never, NO_REQUEST);
          await recordAudit(tx, auditInput(userIds[w]!) as never, NO_REQUEST);
        });
      });
      const stmtStats = stats(stmt);
      const marginal = twoAudits.latencyMs.mean - oneAudit.latencyMs.mean;
      // The primary figure is CPU, not latency: at concurrency 8 on 2 cores latencies are mostly
      // queueing, and the mint now sends its audit row pipelined with the token row, so the audit
      // adds no round trip of its own. One caller, in sequence: CPU (this process + every PostgreSQL
      // process) per mint, and per transaction holding one audit insert minus per transaction holding
      // a trivial statement = what writing the event costs.
      const cpuMint = await cpuPerOp(() => issueSignInToken(db, sys, userIds[0]!, {}, NO_REQUEST));
      const cpuAuditTx = await cpuPerOp(() => db.transaction((tx) => recordAudit(tx, auditInput(userIds[0]!) as never, NO_REQUEST)));
      const cpuTrivialTx = await cpuPerOp(() => db.transaction((tx) => queryRows(tx, sql`select 1`)));
      const cpuAudit = Math.max(0, cpuAuditTx - cpuTrivialTx);
      baselines.auditCost = {
        cpuMsPerMint: cpuMint,
        cpuMsPerAuditWrite: Math.round(cpuAudit * 1000) / 1000,
        cpuShareOfMint: Math.round((cpuAudit / cpuMint) * 1000) / 1000,
        cpuMethod:
          "one caller in sequence; CPU of this process + all PostgreSQL processes per op: (tx with one recordAudit) − (tx with select 1), divided by a whole issueSignInToken()",
        method:
          "in-process, same pool and concurrency: mean latency of recordAudit() inside a committing transaction (HMAC + INSERT round trip) divided by the mean latency of a full issueSignInToken(); cross-check: tx with two audit inserts minus tx with one",
        concurrency: conc,
        mintInProcess: mint,
        auditStatementMs: stmtStats,
        txOneAuditMs: oneAudit.latencyMs,
        txTwoAuditsMs: twoAudits.latencyMs,
        marginalAuditMs: Math.round(marginal * 1000) / 1000,
        shareOfMint: Math.round((stmtStats.mean / mint.latencyMs.mean) * 1000) / 1000,
        marginalShareOfMint: Math.round((marginal / mint.latencyMs.mean) * 1000) / 1000,
      };
      log(`audit write, CPU: ${cpuAudit.toFixed(3)} ms of a ${cpuMint.toFixed(3)} ms mint (${((cpuAudit / cpuMint) * 100).toFixed(1)} %)`);
      log(
        `audit write, latency at ${conc} callers: ${stmtStats.mean.toFixed(2)} ms of a ${mint.latencyMs.mean.toFixed(2)} ms mint (${((stmtStats.mean / mint.latencyMs.mean) * 100).toFixed(1)} %); marginal ${marginal.toFixed(2)} ms`,
      );
    }
    {
      // Webhooks. (1) What writing the event adds to an operation that emits one. A mint writes none
      // (sign_in_token.issued is not a webhook event); the exchange writes sign_in_token.redeemed,
      // so the exchange is the hot path that pays. The event now rides in its audit row (the
      // `webhook` column, lib/webhooks/outbox.ts) and is fanned out to deliveries after commit, off
      // the request path. CPU of this process + the PostgreSQL processes per call, one caller in
      // sequence, the variants interleaved in batches (cpuCompare: the machine's load drifts alike
      // for all of them), each figure the median of ROUNDS rounds. One endpoint subscribes.
      //  - as a real operation pays it: a transaction holding the exchange's two audit events, the
      //    first carrying the webhook event (recordAudits writes both in one statement, as
      //    lib/oauth/exchange.ts does) minus the same transaction without the event;
      //  - before (in the same rounds): the delivery row written in the operation's transaction,
      //    the outbox INSERT … SELECT from webhook_endpoints as a prepared statement pipelined beside
      //    the audit insert (what the code did before the fold; the fold into the audit insert's CTE
      //    measured within 10 % of it, README Results);
      // each put as a share of a whole mint and of a whole exchange.
      // (2) The fan-out's own CPU (off the request path): N exchange-like transactions, then one
      // fanOutAll, per event; and a dispatcher tick's fan-out with nothing new.
      // (3) Delivery throughput: N events to a local receiver that answers 204, by one dispatcher
      // (16 requests in flight, signing each with standardwebhooks), fan-out included.
      const { createWebhookEndpoint, deleteWebhookEndpoint } = await import("@/lib/webhooks/endpoints");
      const { fanOutAll, newMessageId, RETRY_WINDOW_MS } = await import("@/lib/webhooks/outbox");
      const { webhookBody } = await import("@/lib/webhooks/events");
      const { dispatchDueDeliveries } = await import("@/lib/webhooks/dispatcher");
      const { recordAudits } = await import("@/lib/audit/record");
      const http = await import("node:http");
      const eventData = (uid: string) => ({
        user_id: uid,
        client_user_id: "bench",
        environment: "sandbox" as const,
        region: "us",
        sign_in_token_id: randomBytes(16).toString("hex"),
        session_id: randomBytes(16).toString("hex"),
        installation_id: "bench-inst",
      });
      // The exchange's two audit events, as startSdkSession builds them (the first carries the
      // webhook event when `withEvent`).
      const exchangeAudits = (uid: string, withEvent = false) => {
        const actor = { type: "user" as const, id: uid, name: "bench" };
        const ids = { userId: uid, signInTokenId: randomBytes(16).toString("hex"), sessionId: randomBytes(16).toString("hex"), installationId: "bench-inst" };
        return [
          {
            actor,
            action: "sign_in_token.redeemed" as const,
            target: { type: "user", id: uid },
            environment: "sandbox",
            details: ids,
            webhook: withEvent ? { type: "sign_in_token.redeemed" as const, data: eventData(uid) } : null,
          },
          {
            actor,
            action: "sdk_session.started" as const,
            target: { type: "sdk_session", id: ids.sessionId },
            environment: "sandbox",
            details: { ...ids, migratedFromKeyId: null },
          },
        ];
      };
      // Before: the outbox INSERT of one event as its own prepared statement (the code before the
      // fold, kept here only to compare in the same rounds).
      const legacyOutboxInsert = (uid: string) => {
        const at = new Date();
        const body = JSON.stringify(webhookBody("sign_in_token.redeemed", at, eventData(uid)));
        const window = sql.raw(`interval '${RETRY_WINDOW_MS / 1000} seconds'`);
        return sql`insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
          select gen_random_uuid(), ${newMessageId()}::text, e.id, ${"sign_in_token.redeemed"}::text, e.environment, ${body}::text, 'pending',
                 ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz + ${window}, ${at.toISOString()}::timestamptz
          from webhook_endpoints e
          where e.environment = ${"sandbox"}::text and ${"sign_in_token.redeemed"}::text = any (e.event_types) and e.disabled_at is null`;
      };
      const received = new Set<string>();
      const receiver = http.createServer((req, res) => {
        received.add(String(req.headers["webhook-id"]));
        req.resume();
        req.on("end", () => res.writeHead(204).end());
      });
      await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
      const receiverPort = (receiver.address() as import("node:net").AddressInfo).port;
      // A host name, judged at delivery: this process does not allow private literals at creation.
      const { endpoint } = await createWebhookEndpoint(
        db,
        sys,
        { url: `http://bench-receiver.test:${receiverPort}/hooks`, environment: "sandbox", eventTypes: ["sign_in_token.redeemed"] },
        NO_REQUEST,
      );
      const uid = userIds[0]!;
      const exchangeOnce = async (userId: string) => {
        const t = await issueSignInToken(db, sys, userId, {}, NO_REQUEST);
        await exchangeSignInToken(db, { signInToken: t.signInToken, installationId: "bench-inst" }, NO_REQUEST);
      };
      const variants = {
        auditsTx: () => db.transaction((tx) => recordAudits(tx, exchangeAudits(uid), NO_REQUEST)),
        auditsWithEvent: () => db.transaction((tx) => recordAudits(tx, exchangeAudits(uid, true), NO_REQUEST)),
        auditsBefore: () =>
          db.transaction((tx) => Promise.all([recordAudits(tx, exchangeAudits(uid), NO_REQUEST), queryRows(tx, legacyOutboxInsert(uid), { prepare: true })])),
        mint: () => issueSignInToken(db, sys, uid, {}, NO_REQUEST),
        mintExchange: () => exchangeOnce(uid),
      };
      const ROUNDS = Number(option("webhook-rounds", "3"));
      const perRound: Array<Record<string, number>> = [];
      for (let round = 0; round < ROUNDS; round++) {
        const m = await cpuCompare(variants, Number(option("webhook-secs", QUICK ? "8" : "20")));
        perRound.push({
          mint: m.mint,
          exchange: m.mintExchange - m.mint,
          eventInAuditRow: m.auditsWithEvent - m.auditsTx,
          before: m.auditsBefore - m.auditsTx,
        });
        log(
          `webhook event write CPU, round ${round + 1}/${ROUNDS}: ${JSON.stringify(perRound.at(-1), (_k, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v))}`,
        );
      }
      const med = (k: string) => {
        const xs = perRound.map((r) => r[k]!).sort((x, y) => x - y);
        return Math.round(xs[Math.floor(xs.length / 2)]! * 1000) / 1000;
      };
      const cpuMint = med("mint");
      const cpuExchange = Math.max(0.001, med("exchange"));
      const cpuEvent = Math.max(0, med("eventInAuditRow"));
      const cpuBefore = Math.max(0, med("before"));
      const pct = (x: number, of: number) => Math.round((x / of) * 1000) / 1000;

      // The fan-out's CPU: first fan out (and drop) what the rounds wrote, then N exchange-like
      // transactions (two audit rows, one event each) and one fanOutAll over them.
      await fanOutAll(db);
      await queryRows(db, sql`delete from webhook_deliveries where endpoint_id = ${endpoint.id}::uuid`);
      const N = QUICK ? 1000 : 3000;
      for (let i = 0; i < N; i++) await db.transaction((tx) => recordAudits(tx, exchangeAudits(uid, true), NO_REQUEST));
      const cpuOf = async (fn: () => Promise<unknown>) => {
        const p0 = treeCpuPreciseMs(pgPid);
        const c0 = process.cpuUsage();
        await fn();
        const c = process.cpuUsage(c0);
        return (c.user + c.system) / 1000 + (treeCpuPreciseMs(pgPid) - p0);
      };
      let fannedOut = 0;
      const fanOutCpuMs = await cpuOf(async () => {
        fannedOut = await fanOutAll(db);
      });
      const IDLE_TICKS = 200;
      const idleTickCpuMs =
        (await cpuOf(async () => {
          for (let i = 0; i < IDLE_TICKS; i++) await fanOutAll(db);
        })) / IDLE_TICKS;

      // Throughput: the N events just fanned out, delivered end to end; then N more written and
      // delivered with the fan-out inside the timed run.
      const dispatchOpts = { allowPrivate: true, resolve: async () => [{ address: "127.0.0.1", family: 4 }], concurrency: 16, batchSize: 200 };
      const d0 = performance.now();
      const drained = await dispatchDueDeliveries(db, dispatchOpts);
      const seconds = (performance.now() - d0) / 1000;
      for (let i = 0; i < N; i += 500) {
        await db.transaction((tx) =>
          recordAudits(
            tx,
            Array.from({ length: Math.min(500, N - i) }, () => exchangeAudits(uid, true)[0]!),
            NO_REQUEST,
          ),
        );
      }
      const f0 = performance.now();
      const withFanOut = await dispatchDueDeliveries(db, dispatchOpts);
      const secondsWithFanOut = (performance.now() - f0) / 1000;
      await deleteWebhookEndpoint(db, sys, endpoint.id, NO_REQUEST);
      await new Promise((r) => receiver.close(r));

      baselines.webhooks = {
        rounds: ROUNDS,
        cpuMsPerMint: cpuMint,
        cpuMsPerExchange: cpuExchange,
        cpuMsEventWrite: cpuEvent,
        shareOfMintCpu: pct(cpuEvent, cpuMint),
        shareOfExchangeCpu: pct(cpuEvent, cpuExchange),
        before: {
          cpuMsOutboxWriteOneEndpoint: cpuBefore,
          shareOfMintCpu: pct(cpuBefore, cpuMint),
          shareOfExchangeCpu: pct(cpuBefore, cpuExchange),
        },
        fanOut: {
          events: N,
          deliveries: fannedOut,
          cpuMsPerEvent: Math.round((fanOutCpuMs / N) * 1000) / 1000,
          cpuMsPerIdleTick: Math.round(idleTickCpuMs * 1000) / 1000,
        },
        perRound,
        cpuMethod:
          "one caller in sequence; CPU of this process + the PostgreSQL processes per call (schedstat), the variants interleaved in batches of 10, each variant's median batch, median of the rounds; event write = (tx with the exchange's two audit events, the first carrying one sign_in_token.redeemed in its webhook column, one statement) − (tx with the two audit events); before = the same with the outbox INSERT … SELECT from webhook_endpoints (one subscribed endpoint) as its own prepared statement pipelined beside the audit insert; exchange = (issue + exchange) − issue; fanOut = one fanOutAll over N exchange-like transactions, per event, and fanOutAll with nothing new, per call",
        delivery: {
          events: N,
          delivered: drained.succeeded,
          seconds: Math.round(seconds * 100) / 100,
          perSecond: Math.round(drained.succeeded / seconds),
          withFanOut: {
            delivered: withFanOut.succeeded,
            seconds: Math.round(secondsWithFanOut * 100) / 100,
            perSecond: Math.round(withFanOut.succeeded / secondsWithFanOut),
          },
          uniqueIdsReceived: received.size,
        },
      };
      log(
        `webhook event write, CPU (median of ${ROUNDS}): ${cpuEvent.toFixed(3)} ms in the exchange's audit row = ${(pct(cpuEvent, cpuMint) * 100).toFixed(1)} % of a ${cpuMint.toFixed(3)} ms mint, ${(pct(cpuEvent, cpuExchange) * 100).toFixed(1)} % of a ${cpuExchange.toFixed(3)} ms exchange (target ≤ 10 % of a mint); before (a delivery row in the operation's transaction) ${cpuBefore.toFixed(3)} ms = ${(pct(cpuBefore, cpuMint) * 100).toFixed(1)} % of the mint`,
      );
      log(
        `webhook fan-out (after commit, off the request path): ${(fanOutCpuMs / N).toFixed(3)} ms CPU per event over ${N} events (${fannedOut} deliveries); a tick with nothing new ${idleTickCpuMs.toFixed(3)} ms`,
      );
      log(
        `webhook delivery to a local receiver: ${drained.succeeded}/${N} in ${seconds.toFixed(2)} s = ${Math.round(drained.succeeded / seconds)} deliveries/s; with the fan-out in the run ${withFanOut.succeeded}/${N} in ${secondsWithFanOut.toFixed(2)} s = ${Math.round(withFanOut.succeeded / secondsWithFanOut)}/s (${received.size} distinct ids)`,
      );
    }
  } // BASELINES
  results.baselines = baselines;
  await handle.close();
  handleOpen = false;

  const paced: Array<HttpRun & { operation: string; front: Front }> = [];
  // ---------------------------------------------------------------------------------------------
  // HTTP: the two fronts
  // ---------------------------------------------------------------------------------------------
  const servers = new Map<Front, Server>();
  const ports: Record<Front, number> = { lean: PORT, next: PORT + 1, ref: PORT + 2 };
  const profileDir = (front: Front) => path.join(tmpDir, "profiles", front);
  const METRICS_TOKEN = "bench-metrics-token-0123456789";
  const startFront = async (front: Front) => {
    if (PROFILE) fs.rmSync(profileDir(front), { recursive: true, force: true });
    log(`starting the ${front} front on :${ports[front]}${PROFILE ? ` (CPU profiles into ${path.relative(ROOT, profileDir(front))})` : ""}`);
    const server = await startNext(
      ports[front],
      {
        ...env,
        TRUSTED_PROXY: "none",
        METRICS_TOKEN,
        LOG_LEVEL: "warn",
        // No sweepers or webhook dispatcher in the measured servers: the audit sealer, the fan-out
        // and the roll-ups run on whichever instance takes their lock, so their CPU (proportional to
        // the rows every front writes) landed on one front's per-request figure and not the other's.
        TOKENDESK_BACKGROUND: "0",
        ...(front === "next" ? { TOKENDESK_FRONT: "next" } : {}),
        ...(PROFILE ? { TOKENDESK_CPU_PROFILE_DIR: profileDir(front) } : {}),
      },
      NODE_ARGS,
      front === "ref" ? REF_DIR! : undefined,
    );
    cleanups.push(() => server.stop());
    servers.set(front, server);
    return server;
  };
  const stopFront = async (front: Front) => {
    await servers.get(front)?.stop();
    servers.delete(front);
  };
  const cpuOf = (front: Front) => ({ server: servers.get(front)?.child.pid ?? null, postgres: pgPid });

  const form = { "content-type": "application/x-www-form-urlencoded" };
  const json = { "content-type": "application/json" };
  // Request bodies as the SDKs send them; each single-use token is sent once.
  const exchangeBody = (signInToken: string) =>
    new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: signInToken, subject_token_type: SIGN_IN_TOKEN_TYPE }).toString();
  const refreshBody = (refreshToken: string) => new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }).toString();
  const deviceRefreshBody = (dev: { accessToken: string; refreshToken: string }) =>
    JSON.stringify({ AccessToken: dev.accessToken, RefreshToken: dev.refreshToken });
  const cycle = <T>(items: T[]) => {
    let i = 0;
    return () => items[i++ % items.length]!;
  };
  const once = <T>(items: T[]) => {
    let i = 0;
    return () => {
      if (i >= items.length) throw new Error("ran out of single-use tokens");
      return items[i++]!;
    };
  };
  let registration = 0;

  /**
   * Every operation measured: `request(n)` is the request template for a run of `n` requests (or
   * of `duration` seconds when the operation is repeatable), with its own slice of single-use tokens.
   */
  interface Operation {
    name: string;
    singleUse: boolean;
    request: (n: number) => Omit<HttpSpec, "name" | "url" | "connections" | "duration" | "amount" | "cpu">;
  }
  const operations = (
    [
      { name: "empty answer (GET /api/live)", singleUse: false, request: () => ({ path: "/api/live" }) },
      {
        name: "API-key call (GET /v2/user/{id})",
        singleUse: false,
        request: () => {
          const u = cycle(userIds);
          return { path: `/v2/user/${userIds[0]}`, headers: { "x-vital-api-key": key }, next: () => ({ path: `/v2/user/${u()}` }) };
        },
      },
      {
        name: "bearer call (GET /v2/user/{id})",
        singleUse: false,
        request: () => {
          const s = cycle(bearerSessions);
          return {
            path: `/v2/user/${bearerSessions[0]!.userId}`,
            next: () => {
              const x = s();
              return { path: `/v2/user/${x.userId}`, headers: { authorization: `Bearer ${x.accessToken}` } };
            },
          };
        },
      },
      {
        name: "sign-in token mint",
        singleUse: false,
        request: () => {
          const u = cycle(userIds);
          return {
            method: "POST",
            path: `/v2/user/${userIds[0]}/sign_in_token`,
            headers: { ...json, "x-vital-api-key": key },
            body: "{}",
            next: () => ({ path: `/v2/user/${u()}/sign_in_token` }),
          };
        },
      },
      {
        name: "token exchange",
        singleUse: true,
        request: (n) => {
          const t = once(signInTokens.take(n));
          return { method: "POST", path: "/oauth/token", headers: form, next: () => ({ body: exchangeBody(t()) }) };
        },
      },
      {
        name: "refresh (rotation)",
        singleUse: true,
        request: (n) => {
          const t = once(refreshTokens.take(n));
          return { method: "POST", path: "/oauth/token", headers: form, next: () => ({ body: refreshBody(t()) }) };
        },
      },
      {
        name: "ephemeral token mint",
        singleUse: false,
        request: () => ({ method: "POST", path: "/api/device/ephemeral", headers: { ...json, "x-vital-api-key": key }, body: '{"ttl":3600}' }),
      },
      {
        name: "IDV session start",
        singleUse: true,
        request: (n) => {
          const t = once(ephemeral.take(n));
          return {
            method: "POST",
            path: `/api/sessions?workflowId=${wf.id}`,
            headers: json,
            body: '{"metadata":{"externalUserId":"bench"}}',
            next: () => ({ headers: { authorization: t() } }),
          };
        },
      },
      {
        name: "device registration",
        singleUse: false,
        request: () => ({
          method: "POST",
          path: "/v1/Registration/create",
          headers: { ...json, instanceid: instance.id, instancekey: instanceKey },
          next: () => ({ body: JSON.stringify({ UserFields: { ClientId: `bench-reg-${registration++}` } }) }),
        }),
      },
      {
        name: "device login",
        singleUse: true,
        request: (n) => {
          const d = cycle(loginDevices.take(Math.ceil(n / 8)));
          return {
            method: "POST",
            path: "/v1/Auth/Login",
            headers: { ...json, instanceid: instance.id },
            next: () => ({ body: JSON.stringify({ LoginFields: JSON.stringify({ Devicetoken: d().deviceToken }), Password: instanceKey }) }),
          };
        },
      },
      {
        name: "device refresh",
        singleUse: true,
        request: (n) => {
          const d = once(refreshDevices.take(n));
          return { method: "POST", path: "/v1/Auth/RefreshToken", headers: json, next: () => ({ body: deviceRefreshBody(d()) }) };
        },
      },
    ] satisfies Operation[] as Operation[]
  ).filter((op) => op.name.startsWith("empty answer") || wanted(op.name));

  // --profile: the server profiles exactly one measured run between two SIGUSR2 (server/profiler.ts).
  const profiles: Partial<Record<Front, number>> = {};
  const profiled = async <T>(front: Front, label: string, run: () => Promise<T>): Promise<T> => {
    if (!PROFILE) return run();
    const pid = servers.get(front)!.child.pid!;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    process.kill(pid, "SIGUSR2");
    await sleep(300);
    const out = await run();
    process.kill(pid, "SIGUSR2");
    profiles[front] = (profiles[front] ?? 0) + 1;
    const file = path.join(profileDir(front), `${profiles[front]}.cpuprofile`);
    for (let i = 0; i < 300 && !fs.existsSync(file); i++) await sleep(100);
    const named = path.join(
      profileDir(front),
      `${label
        .replace(/[^a-z0-9]+/gi, "-")
        .replace(/^-|-$/g, "")
        .toLowerCase()}.cpuprofile`,
    );
    fs.renameSync(file, named);
    log(`profile: ${path.relative(ROOT, named)}`);
    return out;
  };

  /** A closed-loop run: `connections` clients, each sending its next request when the answer came. */
  const closedRun = (op: Operation, front: Front, connections: number, warm = false, round = 0) => {
    const n = warm ? WARM : AMOUNT;
    const run = () =>
      httpRun({
        ...op.request(n),
        name: `${warm ? "warm-up " : ""}${op.name} [${front}]`,
        url: servers.get(front)!.url,
        connections,
        ...(op.singleUse || warm ? { amount: n } : { duration: DURATION }),
        cpu: cpuOf(front),
      });
    // --profile: the first round of each measurement.
    return warm || round > 0 ? run() : profiled(front, `${op.name.split(" (")[0]} c${connections}`, run);
  };
  const warmUp = async (front: Front) => {
    // Load every module once and let V8 optimise the hot paths before anything is measured.
    await httpRun({ name: `warm-up empty answer [${front}]`, url: servers.get(front)!.url, path: "/api/live", connections: 8, duration: 3, cpu: cpuOf(front) });
    for (const op of operations) await closedRun(op, front, 8, true);
  };

  const closed: Array<HttpRun & { operation: string; front: Front }> = [];
  const phases: Front[][] = EMBEDDED ? FRONTS.map((f) => [f]) : [[...FRONTS]];
  for (const phase of phases) {
    for (const front of phase) await startFront(front);
    for (const front of phase) await warmUp(front);
    for (const op of operations) {
      for (const c of CONNECTIONS) {
        const rounds = new Map<Front, HttpRun[]>(phase.map((f) => [f, []]));
        for (let round = 0; round < ROUNDS; round++) {
          for (const front of phase) rounds.get(front)!.push(await closedRun(op, front, c, false, round));
        }
        for (const front of phase) closed.push({ ...combineRounds(rounds.get(front)!), operation: op.name, front });
      }
    }
    // The empty answer again, last: the drift of the machine over the run.
    for (const front of phase) {
      const op = operations[0]!;
      closed.push({
        ...(await closedRun(op, front, CONNECTIONS[0]!, false, 1)),
        name: `${op.name} again [${front}]`,
        operation: `${op.name} again`,
        front,
      });
    }
    // Open loop, lean front only: the same offered rate through few and many connections.
    if (PACED_LOAD > 0 && phase.includes("lean")) {
      // What happened on the server side during each open-loop run (lib.ts StallClues): the
      // server's GC pauses and event-loop lag (prom-client's default metrics; the lag gauge is the
      // maximum since the previous scrape) and PostgreSQL's checkpoints.
      const scrape = async () => {
        const res = await fetch(`${servers.get("lean")!.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        const text = await res.text();
        const sum = (re: RegExp) => text.split("\n").reduce((n, line) => (re.test(line) ? n + Number(line.slice(line.lastIndexOf(" ") + 1)) : n), 0);
        return {
          gcMs: sum(/^tokendesk_nodejs_gc_duration_seconds_sum\{/) * 1000,
          gcCount: sum(/^tokendesk_nodejs_gc_duration_seconds_count\{/),
          gcUnder10ms: sum(/^tokendesk_nodejs_gc_duration_seconds_bucket\{le="0\.01"/),
          loopLagMaxMs: sum(/^tokendesk_nodejs_eventloop_lag_max_seconds /) * 1000,
          heapUsedMB: sum(/^tokendesk_nodejs_heap_size_used_bytes /) / 2 ** 20,
          rssMB: sum(/^tokendesk_process_resident_memory_bytes /) / 2 ** 20,
        };
      };
      const checkpoints = async () => {
        if (!pgUrl) return { checkpoints: 0, checkpointMs: 0, walSyncs: 0, walSyncMs: 0 };
        const [row] = await statsSql!`select checkpoints_timed + checkpoints_req as n, checkpoint_write_time + checkpoint_sync_time as ms,
                                             w.wal_sync as syncs, w.wal_sync_time as sync_ms
                                      from pg_stat_bgwriter, pg_stat_wal w`;
        return { checkpoints: Number(row!.n), checkpointMs: Number(row!.ms), walSyncs: Number(row!.syncs), walSyncMs: Number(row!.sync_ms) };
      };
      // The machine's CPU pressure (Linux PSI): how long some runnable task waited for a CPU. On
      // two cores shared by the generator, the server and PostgreSQL's backends, a request can wait
      // with neither event loop blocked; this says how much of the round that was.
      const cpuPressureUs = () => {
        try {
          const some = fs.readFileSync("/proc/pressure/cpu", "utf8").match(/^some .*total=(\d+)/m);
          return some ? Number(some[1]) : null;
        } catch {
          return null; // no PSI on this kernel
        }
      };
      // With --sample-waits, PostgreSQL's client backends sampled every 10 ms through one connection of
      // their own: what they were waiting on (Lock, LWLock, IO:WALSync...), and the longest one wait
      // was seen to last.
      const sampleWaits = () => {
        if (!waitSql) return async () => ({});
        const counts = new Map<string, number>();
        const open = new Map<number, { event: string; since: number }>();
        let longest = { event: "", ms: 0 };
        let samples = 0;
        let stopped = false;
        const done = (async () => {
          while (!stopped) {
            const at = performance.now();
            const rows = await waitSql`select pid, wait_event_type || ':' || wait_event as event from pg_stat_activity
                                       where backend_type = 'client backend' and state = 'active' and pid <> pg_backend_pid()`;
            samples++;
            const seen = new Set<number>();
            for (const row of rows) {
              const pid = Number(row.pid);
              const event = row.event as string | null;
              if (!event) continue;
              seen.add(pid);
              counts.set(event, (counts.get(event) ?? 0) + 1);
              const was = open.get(pid);
              if (!was || was.event !== event) open.set(pid, { event, since: at });
              else if (at - was.since > longest.ms) longest = { event, ms: at - was.since };
            }
            for (const pid of open.keys()) if (!seen.has(pid)) open.delete(pid);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        })();
        return async () => {
          stopped = true;
          await done;
          const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3);
          return {
            pgWaitSamples: samples,
            // Backends seen waiting, per sample, for each of the three commonest events.
            ...Object.fromEntries(top.map(([event, n]) => [`pgWait ${event}`, Math.round((n / Math.max(1, samples)) * 100) / 100])),
            // A lower bound: one backend seen in the same wait in consecutive samples this long.
            pgWaitLongestMs: Math.round(longest.ms),
            ...(longest.ms ? { [`pgWaitLongest ${longest.event}`]: 1 } : {}),
          };
        };
      };
      const probe = async () => {
        const [m0, c0] = await Promise.all([scrape(), checkpoints()]);
        const psi0 = cpuPressureUs();
        const t0 = performance.now();
        const waits = sampleWaits();
        return async () => {
          const waited = await waits();
          const psi1 = cpuPressureUs();
          const elapsedMs = performance.now() - t0;
          const [m1, c1] = await Promise.all([scrape(), checkpoints()]);
          const r = (x: number) => Math.round(x * 10) / 10;
          return {
            ...(psi0 !== null && psi1 !== null
              ? { cpuPressureMs: r((psi1 - psi0) / 1000), cpuPressureShare: Math.round(((psi1 - psi0) / 1000 / elapsedMs) * 100) / 100 }
              : {}),
            ...waited,
            serverGcMs: r(m1.gcMs - m0.gcMs),
            serverGcOver10ms: m1.gcCount - m0.gcCount - (m1.gcUnder10ms - m0.gcUnder10ms),
            serverLoopLagMaxMs: r(m1.loopLagMaxMs),
            serverHeapUsedMB: r(m1.heapUsedMB),
            serverRssMB: r(m1.rssMB),
            pgCheckpoints: c1.checkpoints - c0.checkpoints,
            pgCheckpointMs: r(c1.checkpointMs - c0.checkpointMs),
            // The commits' WAL flushes (each durable commit waits for one): how many, and their time.
            pgWalSyncs: c1.walSyncs - c0.walSyncs,
            pgWalSyncMs: r(c1.walSyncMs - c0.walSyncMs),
          };
        };
      };
      const { default: postgresJs } = await import("postgres");
      const statsSql = pgUrl ? postgresJs(pgUrl, { max: 1, onnotice: () => {} }) : null;
      const waitSql = pgUrl && SAMPLE_WAITS ? postgresJs(pgUrl, { max: 1, onnotice: () => {} }) : null;
      cleanups.push(
        () => statsSql?.end(),
        () => waitSql?.end(),
      );
      // pg_stat_wal's sync time is only kept with this on (the throwaway cluster is ours to set).
      await statsSql?.unsafe("alter system set track_wal_io_timing = on").then(() => statsSql.unsafe("select pg_reload_conf()"));
      for (const op of operations) {
        const base = closed.find((r) => r.operation === op.name && r.front === "lean" && r.connections === CONNECTIONS[0]);
        if (!base) continue;
        const rate = Math.max(20, base.reqPerSec * PACED_LOAD);
        const rounds = new Map<number, HttpRun[]>(CONNECTIONS.map((c) => [c, []]));
        for (let round = 0; round < ROUNDS; round++) {
          for (const c of CONNECTIONS) {
            const run = await pacedRun({
              ...op.request(PACED_AMOUNT),
              name: `${op.name} [lean, open loop]`,
              url: servers.get("lean")!.url,
              connections: c,
              rate,
              amount: PACED_AMOUNT,
              cpu: cpuOf("lean"),
              probe,
            });
            rounds.get(c)!.push(run);
          }
        }
        for (const c of CONNECTIONS) paced.push({ ...combineRounds(rounds.get(c)!), operation: op.name, front: "lean" });
      }
    }
    // What a Prometheus scrape costs: one scraper in sequence, after the runs above filled the
    // registry with their series (routes × statuses × histogram buckets). 20 warm-up scrapes are not counted.
    if (phase.includes("lean")) {
      const scrapeMs: number[] = [];
      let bytes = 0;
      let cpuAtStart = 0;
      for (let i = 0; i < 220; i++) {
        if (i === 20) cpuAtStart = treeCpuMs(servers.get("lean")!.child.pid);
        const t0 = performance.now();
        const res = await fetch(`${servers.get("lean")!.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
        if (i >= 20) scrapeMs.push(performance.now() - t0);
        bytes = text.length;
      }
      // Server CPU per scrape (clock ticks of 10 ms, so a mean over the 200): what a scrape costs the
      // instance, which the latency alone does not tell on a loaded machine.
      const serverCpuMsPerScrape = Math.round(((treeCpuMs(servers.get("lean")!.child.pid) - cpuAtStart) / scrapeMs.length) * 1000) / 1000;
      const s = stats(scrapeMs);
      results.metricsScrape = { ...s, bytes, serverCpuMsPerScrape, target: "p95 < 5 ms", met: s.p95 < 5 };
      log(
        `/metrics scrape: p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms (${bytes} bytes, server CPU ${serverCpuMsPerScrape} ms per scrape) — target p95 < 5 ms: ${s.p95 < 5 ? "met" : "not met"}`,
      );
    }
    for (const front of phase) await stopFront(front);
  }

  // ---------------------------------------------------------------------------------------------
  // Floor: the same empty answer from Node's own http server, alone in its process
  // ---------------------------------------------------------------------------------------------
  const floor: HttpRun[] = [];
  {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts", "bench", "raw-node.mjs"), String(PEER_PORT + 1)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanups.push(() => child.kill("SIGTERM"));
    await new Promise<void>((resolve) => child.stdout!.on("data", (d) => String(d).includes("ready") && resolve()));
    const url = `http://127.0.0.1:${PEER_PORT + 1}`;
    const cpu = { server: child.pid ?? null, postgres: null };
    await httpRun({ name: "warm-up Node http empty answer", url, path: "/api/live", connections: 8, duration: 2, cpu });
    for (const c of CONNECTIONS)
      floor.push(await httpRun({ name: "empty answer, Node's http server alone", url, path: "/api/live", connections: c, duration: DURATION, cpu }));
    child.kill("SIGTERM");
  }

  // ---------------------------------------------------------------------------------------------
  // Peer: oidc-provider's refresh_token grant (rotation on) on the same machine
  // ---------------------------------------------------------------------------------------------
  const peer: Array<HttpRun & { adapter: string }> = [];
  if (!flag("no-peer") && wanted("refresh (rotation)")) {
    const adapters: Array<[string, string[]]> = [["memory", []]];
    if (!EMBEDDED) adapters.push(["postgres", ["--pg", pgUrl!]]);
    for (const [adapter, extra] of adapters) {
      const out = path.join(tmpDir, `peer-tokens-${adapter}.json`);
      const child = spawn(
        process.execPath,
        [
          path.join(ROOT, "scripts", "bench", "peer-oidc.mjs"),
          "--port",
          String(PEER_PORT),
          "--count",
          String(ROUNDS * CONNECTIONS.length * AMOUNT + WARM),
          "--out",
          out,
          ...extra,
        ],
        { cwd: ROOT, env: { ...process.env, NODE_ENV: "production" }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let perr = "";
      child.stderr!.on("data", (d) => (perr += d));
      const stopPeer = () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        });
      cleanups.push(stopPeer);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d) => String(d).includes("ready") && resolve());
        child.once("exit", (code) => reject(new Error(`oidc-provider exited ${code}: ${perr}`)));
      });
      const tokens = new Supply(`peer tokens (${adapter})`, JSON.parse(fs.readFileSync(out, "utf8")) as string[]);
      const purl = `http://127.0.0.1:${PEER_PORT}`;
      const cpu = { server: child.pid ?? null, postgres: pgPid };
      const peerRun = (connections: number, n: number, name: string) => {
        const t = once(tokens.take(n));
        return httpRun({
          name,
          url: purl,
          method: "POST",
          path: "/token",
          headers: form,
          connections,
          amount: n,
          cpu,
          next: () => ({ body: `grant_type=refresh_token&client_id=bench-sdk&refresh_token=${t()}` }),
        });
      };
      await peerRun(8, WARM, `warm-up oidc-provider refresh (${adapter})`);
      for (const c of CONNECTIONS) {
        const rounds: HttpRun[] = [];
        for (let round = 0; round < ROUNDS; round++) rounds.push(await peerRun(c, AMOUNT, `oidc-provider refresh (${adapter})`));
        peer.push({ ...combineRounds(rounds), adapter });
      }
      await stopPeer();
      fs.rmSync(out, { force: true });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Report
  // ---------------------------------------------------------------------------------------------
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const runOf = (op: string, front: Front, c: number) => closed.find((r) => r.operation === op && r.front === front && r.connections === c);
  const table = operations.flatMap((op) =>
    CONNECTIONS.map((c) => {
      const lean = runOf(op.name, "lean", c);
      const next = runOf(op.name, "next", c);
      const ref = runOf(op.name, "ref", c);
      const brief = (r: HttpRun | undefined) =>
        r && { reqPerSec: r.reqPerSec, latencyMs: r.latencyMs, serverCpuMsPerReq: r.serverCpuMsPerReq, postgresCpuMsPerReq: r.postgresCpuMsPerReq };
      return {
        operation: op.name,
        connections: c,
        lean: brief(lean),
        next: brief(next),
        leanToNext: lean && next ? r2(lean.reqPerSec / next.reqPerSec) : null,
        ...(ref ? { ref: brief(ref), leanToRef: lean ? r2(lean.reqPerSec / ref.reqPerSec) : null } : {}),
        failures: [lean, next, ref].reduce((n, r) => n + (r ? r.non2xx + r.errors : 0), 0),
      };
    }),
  );
  const openLoop = operations.map((op) => {
    const runs = paced.filter((r) => r.operation === op.name);
    const first = runs.find((r) => r.connections === CONNECTIONS[0]);
    const last = runs.find((r) => r.connections === CONNECTIONS[CONNECTIONS.length - 1]);
    return {
      operation: op.name,
      offeredRate: first?.offeredRate ?? null,
      runs: runs.map((r) => ({ connections: r.connections, achieved: r.reqPerSec, latencyMs: r.latencyMs, serverCpuMsPerReq: r.serverCpuMsPerReq })),
      p99Ratio: first && last ? r2(last.latencyMs.p99 / first.latencyMs.p99) : null,
    };
  });

  // The issue's targets (17), judged on this run.
  const targets: Array<{ target: string; value: number | null; met: boolean | null }> = [];
  const c0 = CONNECTIONS[0]!;
  const ratioTarget = (op: string, min: number) => {
    for (const c of CONNECTIONS) {
      const row = table.find((t) => t.operation === op && t.connections === c);
      const v = row?.leanToNext ?? null;
      targets.push({ target: `${op}, lean ÷ Next route req/s at ${c} connections ≥ ${min}`, value: v, met: v === null ? null : v >= min });
    }
  };
  ratioTarget("bearer call (GET /v2/user/{id})", 2.5);
  for (const op of ["sign-in token mint", "token exchange", "refresh (rotation)"]) ratioTarget(op, 1.6);
  for (const [adapter, min] of [
    ["postgres", 1.2],
    ["memory", 0.6],
  ] as const) {
    for (const c of CONNECTIONS) {
      const ours = runOf("refresh (rotation)", "lean", c);
      const theirs = peer.find((p) => p.adapter === adapter && p.connections === c);
      const v = ours && theirs ? r2(ours.reqPerSec / theirs.reqPerSec) : null;
      targets.push({ target: `refresh, lean ÷ oidc-provider (${adapter}) req/s at ${c} connections ≥ ${min}`, value: v, met: v === null ? null : v >= min });
    }
  }
  for (const [op, max] of [
    ["bearer call (GET /v2/user/{id})", 0.35],
    ["sign-in token mint", 1.0],
    ["token exchange", 1.3],
    ["refresh (rotation)", 1.3],
  ] as const) {
    const v = runOf(op, "lean", c0)?.serverCpuMsPerReq ?? null;
    targets.push({ target: `${op}, server CPU ms per request (lean, ${c0} connections) ≤ ${max}`, value: v, met: v === null ? null : v <= max });
  }
  for (const o of openLoop) {
    if (o.p99Ratio === null) continue;
    targets.push({
      target: `${o.operation}, open loop at ${o.offeredRate}/s: p99 with ${CONNECTIONS[CONNECTIONS.length - 1]} connections ≤ 2 × p99 with ${c0}`,
      value: o.p99Ratio,
      met: o.p99Ratio <= 2,
    });
  }

  Object.assign(results, {
    prepSeconds: Math.round(prepSeconds),
    table,
    openLoop,
    peer,
    floor,
    targets,
    http: closed,
    paced,
    loadAverageAtEnd: os.loadavg(),
    totalSeconds: Math.round((performance.now() - t0) / 1000),
  });
  // A partial or profiled run never replaces a whole run's results.
  const file = writeResults(`${EMBEDDED ? "embedded" : "postgres"}${QUICK ? "-quick" : ""}${ONLY || PROFILE || !WITH_NEXT ? "-partial" : ""}`, results);

  const lat = (l?: { latencyMs: { p50: number; p95: number; p99: number } }) =>
    l ? `${r1(l.latencyMs.p50)} / ${r1(l.latencyMs.p95)} / ${r1(l.latencyMs.p99)}` : "";
  const cpu = (l?: { serverCpuMsPerReq?: number; postgresCpuMsPerReq?: number }) =>
    l ? `${l.serverCpuMsPerReq ?? "-"} / ${l.postgresCpuMsPerReq ?? "-"}` : "";
  console.log(
    "\n| operation | conns | lean req/s | Next req/s | lean ÷ Next | lean p50/p95/p99 ms | Next p50/p95/p99 ms | lean CPU ms server/PG | Next CPU ms server/PG |",
  );
  console.log("|---|---:|---:|---:|---:|---|---|---|---|");
  for (const t of table) {
    console.log(
      `| ${t.operation} | ${t.connections} | ${t.lean?.reqPerSec ?? ""} | ${t.next?.reqPerSec ?? ""} | ${t.leanToNext ?? ""} | ${lat(t.lean)} | ${lat(t.next)} | ${cpu(t.lean)} | ${cpu(t.next)} |`,
    );
  }
  if (REF_DIR) {
    console.log(`\n| operation | conns | lean req/s | ref req/s | lean ÷ ref | lean CPU ms server/PG | ref CPU ms server/PG |  (ref: ${REF_DIR})`);
    console.log("|---|---:|---:|---:|---:|---|---|");
    for (const t of table)
      console.log(
        `| ${t.operation} | ${t.connections} | ${t.lean?.reqPerSec ?? ""} | ${t.ref?.reqPerSec ?? ""} | ${t.leanToRef ?? ""} | ${cpu(t.lean)} | ${cpu(t.ref)} |`,
      );
  }
  for (const f of floor) console.log(`floor: ${f.name}, ${f.connections} connections: ${f.reqPerSec} req/s, CPU ${f.serverCpuMsPerReq} ms per request`);
  if (peer.length) {
    console.log("\n| peer | conns | req/s | p50/p95/p99 ms | CPU ms server/PG |\n|---|---:|---:|---|---|");
    for (const p of peer) console.log(`| oidc-provider refresh (${p.adapter}) | ${p.connections} | ${p.reqPerSec} | ${lat(p)} | ${cpu(p)} |`);
  }
  if (paced.length) {
    console.log(`\n| operation (lean, open loop) | offered/s | ${CONNECTIONS.map((c) => `p50/p95/p99 ms at ${c}`).join(" | ")} | p99 ratio |`);
    console.log(`|---|---:|${CONNECTIONS.map(() => "---|").join("")}---:|`);
    for (const o of openLoop) {
      console.log(
        `| ${o.operation} | ${o.offeredRate} | ${CONNECTIONS.map((c) => lat(o.runs.find((r) => r.connections === c))).join(" | ")} | ${o.p99Ratio ?? ""} |`,
      );
    }
  }
  console.log("\n| target | value | met |\n|---|---:|---|");
  for (const t of targets) console.log(`| ${t.target} | ${t.value ?? ""} | ${t.met === null ? "" : t.met ? "yes" : "**no**"} |`);
  log(`results in ${path.relative(ROOT, file)}; total ${results.totalSeconds} s`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
process.exit(process.exitCode ?? 0);
