/**
 * `npm run bench` — token operations over HTTP against baselines measured in the same run.
 *
 *   npm run bench                      # PostgreSQL (throwaway, durable commits), full run
 *   npm run bench -- --quick           # shorter runs, fewer tokens (< 5 min with an existing build)
 *   npm run bench -- --embedded        # the same suite on the embedded database (PGlite)
 *   npm run bench -- --no-build        # reuse the build in .next-bench
 *   npm run bench -- --scale [--users 1000000 --events 10000000]   # data at scale (scripts/bench/scale.ts)
 *   options: --connections 8  --duration 10  --amount 3000  --port 3700  --no-peer
 *            --only <regex>     run only the HTTP operations whose name matches (the baselines always run)
 *            --profile          write V8 CPU profiles of the server to bench/tmp/profiles
 *                               (summarise with `node scripts/bench/profile-summary.mjs <file>`)
 *
 * Order: throwaway PostgreSQL → build → prepare data in-process with the domain functions (system
 * actor) → in-process baselines (raw INSERT, jose verify, audit cost) → `next start` → autocannon
 * runs → oidc-provider peer → results in bench/results/<date>-<mode>.json.
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
  cpuWatch,
  flag,
  type HttpRun,
  httpRun,
  log,
  machine,
  option,
  pool,
  ROOT,
  startNext,
  stats,
  timedLoop,
  treeCpuMs,
  writeResults,
} from "./lib";

if (flag("scale")) {
  await import("./scale");
  process.exit(0);
}

const QUICK = flag("quick");
const EMBEDDED = flag("embedded");
const CONNECTIONS = Number(option("connections", "8"));
const DURATION = Number(option("duration", QUICK ? "4" : "10"));
const AMOUNT = Number(option("amount", QUICK ? "800" : "3000"));
const PORT = Number(option("port", "3700"));
const ONLY = process.argv.includes("--only") ? new RegExp(option("only", ""), "i") : null;
const PROFILE = flag("profile");
const PEER_PORT = PORT + 90;
const WARM = 40; // extra single-use tokens of each kind, spent on warm-up

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

const t0 = performance.now();
const results: Record<string, unknown> = { mode: EMBEDDED ? "embedded" : "postgres", quick: QUICK, machine: machine() };

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
  // The tokens prepared in-process carry iss = PUBLIC_URL: the same origin the server will have.
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

  const handle = await openDatabase({ databaseUrl: pgUrl, dataDir: EMBEDDED ? env.TOKENDESK_DATA_DIR! : null, maxConnections: CONNECTIONS });
  let handleOpen = true;
  cleanups.push(() => (handleOpen ? handle.close() : undefined));
  await migrateDatabase(handle);
  await ensureSigningKey(handle.db);
  const db = handle.db;
  const sys = systemActor("bench");
  const PREP_CONC = EMBEDDED ? 1 : CONNECTIONS;

  // ---------------------------------------------------------------------------------------------
  // Prepare data in-process (the server owns the embedded data dir once started)
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
  log(`prepared ${N_USERS} users`);

  const nSign = AMOUNT + WARM;
  const signInTokens = await pool(nSign, PREP_CONC, async (i) => (await issueSignInToken(db, sys, userIds[i % N_USERS]!, {}, NO_REQUEST)).signInToken);
  log(`prepared ${nSign} sign-in tokens for the exchange run`);

  const nSessions = AMOUNT + WARM + 50;
  const sessions = await pool(nSessions, PREP_CONC, async (i) => {
    const t = await issueSignInToken(db, sys, userIds[i % N_USERS]!, {}, NO_REQUEST);
    const r = await exchangeSignInToken(db, { signInToken: t.signInToken, installationId: `bench-inst-${i}` }, NO_REQUEST);
    return { userId: t.userId, accessToken: r.access_token, refreshToken: r.refresh_token! };
  });
  const bearerSessions = sessions.slice(AMOUNT + WARM); // 50 sessions whose access tokens the bearer run uses
  const refreshTokens = sessions.slice(0, AMOUNT + WARM).map((s) => s.refreshToken);
  log(`prepared ${nSessions} SDK sessions (refresh tokens used once each)`);

  const wf = await createWorkflow(db, sys, { name: "bench workflow", steps: ["form"] }, NO_REQUEST);
  const ephemeral = await pool(
    AMOUNT + WARM,
    PREP_CONC,
    async () => (await mintEphemeralToken(db, sys, { environment: "sandbox", region: "us" }, NO_REQUEST)).authorization,
  );
  log(`prepared ${ephemeral.length} ephemeral tokens (workflow ${wf.id})`);

  const { instance: instView, instanceKey } = await createInstance(db, sys, { name: "bench instance", environment: "sandbox" }, NO_REQUEST);
  const instance = (await findInstance(db, instView.id))!;
  const refreshDevices = await pool(AMOUNT + WARM, PREP_CONC, (i) =>
    registerDevice(db, instance, { UserFields: { ClientId: `bench-r-${i}` } } as never, NO_REQUEST),
  );
  // Login is rate-limited to 10 per DeviceToken per 10 min: each login device is used at most 8 times.
  const loginDevices = await pool(Math.ceil((AMOUNT + WARM) / 8), PREP_CONC, (i) =>
    registerDevice(db, instance, { UserFields: { ClientId: `bench-l-${i}` } } as never, NO_REQUEST),
  );
  log(`prepared instance ${instance.id} with ${refreshDevices.length + loginDevices.length} devices`);
  const prepSeconds = (performance.now() - tp) / 1000;
  log(`data prepared in ${prepSeconds.toFixed(1)} s`);

  // ---------------------------------------------------------------------------------------------
  // In-process baselines: raw INSERT through the same driver, jose ES256 verify, the audit write
  // ---------------------------------------------------------------------------------------------
  const baselines: Record<string, unknown> = {};
  const inSecs = QUICK ? 3 : 6;
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
    const conc = EMBEDDED ? 1 : CONNECTIONS;
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
    const pgPid = pgDir ? Number(fs.readFileSync(path.join(pgDir, "data", "postmaster.pid"), "utf8").split("\n")[0]) : null;
    const cpuPerOp = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 50; i++) await fn();
      const c0 = process.cpuUsage();
      const p0 = treeCpuMs(pgPid);
      let n = 0;
      const end = performance.now() + inSecs * 1000;
      while (performance.now() < end) {
        await fn();
        n++;
      }
      const c = process.cpuUsage(c0);
      return Math.round((((c.user + c.system) / 1000 + (treeCpuMs(pgPid) - p0)) / n) * 1000) / 1000;
    };
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
  results.baselines = baselines;
  await handle.close();
  handleOpen = false;

  // ---------------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------------
  log(`starting next start on :${PORT}`);
  const profileDir = path.join(tmpDir, "profiles");
  if (PROFILE) {
    fs.mkdirSync(profileDir, { recursive: true });
    log(`CPU profiles of the server go to ${path.relative(ROOT, profileDir)}`);
  }
  const METRICS_TOKEN = "bench-metrics-token-0123456789";
  const server = await startNext(
    PORT,
    { ...env, TRUSTED_PROXY: "none", METRICS_TOKEN, LOG_LEVEL: "warn" },
    PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
  );
  cleanups.push(() => server.stop());
  cpuWatch.server = server.child.pid ?? null;
  if (pgDir) cpuWatch.postgres = Number(fs.readFileSync(path.join(pgDir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  const url = server.url;
  const C = CONNECTIONS;
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const json = { "content-type": "application/json" };
  const counter = () => {
    let i = 0;
    return () => i++;
  };
  // Request bodies as the SDKs send them; each single-use token is sent once.
  const exchangeBody = (signInToken: string) =>
    new URLSearchParams({ grant_type: TOKEN_EXCHANGE_GRANT, subject_token: signInToken, subject_token_type: SIGN_IN_TOKEN_TYPE }).toString();
  const refreshBody = (refreshToken: string) => new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }).toString();
  const deviceRefreshBody = (dev: { accessToken: string; refreshToken: string }) =>
    JSON.stringify({ AccessToken: dev.accessToken, RefreshToken: dev.refreshToken });

  // Warm-up: load every route module once and let V8 optimise the hot paths.
  const warmU = userIds[0]!;
  await httpRun({ name: "warm-up live", url, path: "/api/live", connections: C, duration: 5 });
  await httpRun({ name: "warm-up api-key call", url, path: `/v2/user/${warmU}`, headers: { "x-vital-api-key": key }, connections: C, duration: 2 });
  {
    const i = counter();
    await httpRun({
      name: "warm-up refresh",
      url,
      method: "POST",
      path: "/oauth/token",
      headers: form,
      connections: C,
      amount: WARM / 2,
      next: () => ({ body: refreshBody(refreshTokens[AMOUNT + i()]!) }),
    });
    const j = counter();
    await httpRun({
      name: "warm-up exchange",
      url,
      method: "POST",
      path: "/oauth/token",
      headers: form,
      connections: C,
      amount: WARM / 2,
      next: () => ({ body: exchangeBody(signInTokens[AMOUNT + j()]!) }),
    });
    const k = counter();
    await httpRun({
      name: "warm-up session start",
      url,
      method: "POST",
      path: `/api/sessions?workflowId=${wf.id}`,
      headers: json,
      body: "{}",
      connections: C,
      amount: WARM,
      next: () => ({ headers: { authorization: ephemeral[AMOUNT + k()]! } }),
    });
    const d = counter();
    await httpRun({
      name: "warm-up device refresh",
      url,
      method: "POST",
      path: "/v1/Auth/RefreshToken",
      headers: json,
      connections: C,
      amount: WARM,
      next: () => ({ body: deviceRefreshBody(refreshDevices[AMOUNT + d()]!) }),
    });
  }

  const http: HttpRun[] = [];
  const run = async (spec: Parameters<typeof httpRun>[0]) => {
    // The empty route always runs (every ratio is taken against it), and the peer whenever our refresh did.
    if (ONLY && !ONLY.test(spec.name) && !/^(empty route|oidc-provider)/.test(spec.name)) return null as unknown as HttpRun;
    const r = await httpRun(spec);
    http.push(r);
    return r;
  };
  const rr = counter();
  const live = await run({ name: "empty route (GET /api/live)", url, path: "/api/live", connections: C, duration: DURATION });
  await run({
    name: "API-key call (GET /v2/user/{id})",
    url,
    path: `/v2/user/${warmU}`,
    headers: { "x-vital-api-key": key },
    connections: C,
    duration: DURATION,
    next: () => ({ path: `/v2/user/${userIds[rr() % N_USERS]}` }),
  });
  const bb = counter();
  await run({
    name: "bearer call (GET /v2/user/{id})",
    url,
    path: `/v2/user/${bearerSessions[0]!.userId}`,
    connections: C,
    duration: DURATION,
    next: () => {
      const s = bearerSessions[bb() % bearerSessions.length]!;
      return { path: `/v2/user/${s.userId}`, headers: { authorization: `Bearer ${s.accessToken}` } };
    },
  });
  const mm = counter();
  await run({
    name: "sign-in token mint",
    url,
    method: "POST",
    path: `/v2/user/${warmU}/sign_in_token`,
    headers: { ...json, "x-vital-api-key": key },
    body: "{}",
    connections: C,
    duration: DURATION,
    next: () => ({ path: `/v2/user/${userIds[mm() % N_USERS]}/sign_in_token` }),
  });
  const ee = counter();
  await run({
    name: "token exchange",
    url,
    method: "POST",
    path: "/oauth/token",
    headers: form,
    connections: C,
    amount: AMOUNT,
    next: () => ({ body: exchangeBody(signInTokens[ee()]!) }),
  });
  const ff = counter();
  const tdRefresh = await run({
    name: "refresh (rotation)",
    url,
    method: "POST",
    path: "/oauth/token",
    headers: form,
    connections: C,
    amount: AMOUNT,
    next: () => ({ body: refreshBody(refreshTokens[ff()]!) }),
  });
  await run({
    name: "ephemeral token mint",
    url,
    method: "POST",
    path: "/api/device/ephemeral",
    headers: { ...json, "x-vital-api-key": key },
    body: '{"ttl":3600}',
    connections: C,
    duration: DURATION,
  });
  const ss = counter();
  await run({
    name: "IDV session start",
    url,
    method: "POST",
    path: `/api/sessions?workflowId=${wf.id}`,
    headers: json,
    body: '{"metadata":{"externalUserId":"bench"}}',
    connections: C,
    amount: AMOUNT,
    next: () => ({ headers: { authorization: ephemeral[ss()]! } }),
  });
  const rg = counter();
  await run({
    name: "device registration",
    url,
    method: "POST",
    path: "/v1/Registration/create",
    headers: { ...json, instanceid: instance.id, instancekey: instanceKey },
    connections: C,
    duration: DURATION,
    next: () => ({ body: JSON.stringify({ UserFields: { ClientId: `bench-reg-${rg()}` } }) }),
  });
  const lg = counter();
  await run({
    name: "device login",
    url,
    method: "POST",
    path: "/v1/Auth/Login",
    headers: { ...json, instanceid: instance.id },
    connections: C,
    amount: AMOUNT,
    next: () => ({
      body: JSON.stringify({ LoginFields: JSON.stringify({ Devicetoken: loginDevices[lg() % loginDevices.length]!.deviceToken }), Password: instanceKey }),
    }),
  });
  const dr = counter();
  await run({
    name: "device refresh",
    url,
    method: "POST",
    path: "/v1/Auth/RefreshToken",
    headers: json,
    connections: C,
    amount: AMOUNT,
    next: () => ({ body: deviceRefreshBody(refreshDevices[dr()]!) }),
  });
  const live2 = await run({ name: "empty route again (drift check)", url, path: "/api/live", connections: C, duration: Math.max(2, DURATION / 2) });

  // What a Prometheus scrape costs: one scraper in sequence, after the runs above filled the registry
  // with their series (routes × statuses × histogram buckets). 20 warm-up scrapes are not counted.
  {
    const scrapeMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 220; i++) {
      const t0 = performance.now();
      const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
      if (i >= 20) scrapeMs.push(performance.now() - t0);
      bytes = text.length;
    }
    const s = stats(scrapeMs);
    results.metricsScrape = { ...s, bytes, target: "p95 < 5 ms", met: s.p95 < 5 };
    log(`/metrics scrape: p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms (${bytes} bytes) — target p95 < 5 ms: ${s.p95 < 5 ? "met" : "not met"}`);
  }
  await server.stop();

  // ---------------------------------------------------------------------------------------------
  // Peer: oidc-provider's refresh_token grant (rotation on) on the same machine
  // ---------------------------------------------------------------------------------------------
  const peer: Record<string, unknown> = {};
  if (!flag("no-peer") && tdRefresh) {
    const adapters: Array<[string, string[]]> = [["memory", []]];
    if (!EMBEDDED && !QUICK) adapters.push(["postgres", ["--pg", pgUrl!]]);
    for (const [adapter, extra] of adapters) {
      const out = path.join(tmpDir, `peer-tokens-${adapter}.json`);
      const child = spawn(
        process.execPath,
        [path.join(ROOT, "scripts", "bench", "peer-oidc.mjs"), "--port", String(PEER_PORT), "--count", String(AMOUNT + WARM), "--out", out, ...extra],
        {
          cwd: ROOT,
          env: { ...process.env, NODE_ENV: "production" },
          stdio: ["ignore", "pipe", "pipe"],
        },
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
      const tokens = JSON.parse(fs.readFileSync(out, "utf8")) as string[];
      const purl = `http://127.0.0.1:${PEER_PORT}`;
      const pw = counter();
      await httpRun({
        name: `warm-up peer (${adapter})`,
        url: purl,
        method: "POST",
        path: "/token",
        headers: form,
        connections: C,
        amount: WARM,
        next: () => ({ body: `grant_type=refresh_token&client_id=bench-sdk&refresh_token=${tokens[AMOUNT + pw()]}` }),
      });
      const pi = counter();
      cpuWatch.server = child.pid ?? null;
      const pr = await run({
        name: `oidc-provider refresh (${adapter} adapter)`,
        url: purl,
        method: "POST",
        path: "/token",
        headers: form,
        connections: C,
        amount: AMOUNT,
        next: () => ({ body: `grant_type=refresh_token&client_id=bench-sdk&refresh_token=${tokens[pi()]}` }),
      });
      peer[adapter] = { ...pr, ratioTokendeskToPeer: Math.round((tdRefresh.reqPerSec / pr.reqPerSec) * 100) / 100 };
      await stopPeer();
      fs.rmSync(out, { force: true });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Report
  // ---------------------------------------------------------------------------------------------
  // The empty route runs first and last; the faster of the two is the baseline. The first run can
  // still be warming up (V8 optimising Next's request path), which would flatter every ratio.
  const base = Math.max(live.reqPerSec, live2.reqPerSec);
  const targets: Record<string, { ratio: number; of: string }> = {
    "bearer call (GET /v2/user/{id})": { ratio: 0.9, of: "empty route" },
    "sign-in token mint": { ratio: 0.6, of: "empty route" },
    "token exchange": { ratio: 0.6, of: "empty route" },
    "refresh (rotation)": { ratio: 0.6, of: "empty route" },
  };
  const rawInsert8 = (baselines.rawInsert_8conn as { opsPerSec: number }).opsPerSec;
  const table = http.map((r) => {
    const t = targets[r.name];
    const ratio = Math.round((r.reqPerSec / base) * 1000) / 1000;
    return {
      operation: r.name,
      reqPerSec: r.reqPerSec,
      p50: r.latencyMs.p50,
      p95: r.latencyMs.p95,
      p99: r.latencyMs.p99,
      ratioToEmptyRoute: ratio,
      ratioToRawInsert8: Math.round((r.reqPerSec / rawInsert8) * 1000) / 1000,
      serverCpuMsPerReq: r.serverCpuMsPerReq ?? null,
      postgresCpuMsPerReq: r.postgresCpuMsPerReq ?? null,
      target: t ? `≥ ${t.ratio * 100} % of ${t.of}` : null,
      met: t ? ratio >= t.ratio : null,
      failures: r.non2xx + r.errors,
    };
  });
  results.config = {
    connections: C,
    durationS: DURATION,
    amount: AMOUNT,
    emptyRouteFirst: live.reqPerSec,
    emptyRouteDriftCheck: live2.reqPerSec,
    baselineReqPerSec: base,
  };
  results.http = http;
  results.table = table;
  results.peer = peer;
  results.prepSeconds = Math.round(prepSeconds);
  results.loadAverageAtEnd = os.loadavg();
  results.totalSeconds = Math.round((performance.now() - t0) / 1000);
  // A partial or profiled run never replaces a whole run's results.
  const file = writeResults(`${EMBEDDED ? "embedded" : "postgres"}${QUICK ? "-quick" : ""}${ONLY || PROFILE ? "-partial" : ""}`, results);

  console.log("\n| operation | req/s | p50 ms | p95 ms | p99 ms | × empty route | × raw INSERT (8 conn) | target | met |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---|---|");
  for (const r of table) {
    console.log(
      `| ${r.operation} | ${r.reqPerSec} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.ratioToEmptyRoute} | ${r.ratioToRawInsert8} | ${r.target ?? ""} | ${r.met === null ? "" : r.met ? "yes" : "**no**"} |`,
    );
  }
  console.log(`\nbaselines: ${JSON.stringify(baselines, null, 1)}`);
  for (const [k, v] of Object.entries(peer))
    console.log(`peer ${k}: tokendesk refresh / oidc-provider refresh = ${(v as { ratioTokendeskToPeer: number }).ratioTokendeskToPeer}`);
  log(`results in ${path.relative(ROOT, file)}; total ${results.totalSeconds} s`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
process.exit(process.exitCode ?? 0);
