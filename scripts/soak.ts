/**
 * The soak of issue 12 ("Done when"): normal token traffic alone, then the same traffic while
 * attackers send over-long User-Agents and 50 MB bodies, against the production server on a
 * throwaway PostgreSQL. Not part of `npm test` (it runs for minutes and wants the machine to itself).
 *
 *   npm run soak -- [--duration 120] [--clients 16] [--warmup 10] [--db postgres://…]
 *                   [--standalone dist/standalone | --dist .next] [--save]
 *
 * Server: the assembled standalone server (`node server.mjs` in dist/standalone, as the container
 * runs it) when it exists, else server.ts through tsx on the build in `--dist` (default .next).
 * Build first (`next build && node scripts/build-standalone.mjs`); this script never builds.
 *
 * Normal traffic: `--clients` clients, each looping over its own user: mint (POST
 * /v2/user/{id}/sign_in_token, Team API key) → exchange (POST /oauth/token, token exchange) → bearer
 * (GET /v2/user/{id} with the access token) → refresh (POST /oauth/token, refresh_token) → bearer
 * with the refreshed token. Every answer must be 2xx; anything else is counted.
 * Attackers (second run only, in a child process so their writes never hold up the measuring
 * clients' event loop): 8 clients looping GET requests with a 15 KB User-Agent (console page,
 * sign-in page, machine API, liveness, in turn), and 4 clients each sending 50 MB bodies over and
 * over — declared by Content-Length to next-auth's credentials callback and to /v2/user, chunked to
 * /oauth/token and /v1/Auth/Login — writing until the body is done or the server closes.
 *
 * Printed per run: requests, p50/p95/p99 of the normal requests (ms), their 5xx and other non-2xx
 * counts, the attackers' answers, the server's RSS at start, middle and end (MiB); then the p95
 * ratio attacked/alone (goal ≤ 2) and the total of 5xx (goal 0).
 *
 * And where the CPU went in each run (from /proc): the server's, PostgreSQL's, the measuring
 * clients' (this process), the attackers' (their process), everyone else's on the machine, the
 * bytes the server read, the load average; the server's CPU per attack beyond its normal requests.
 * Then `--probe` seconds (default 10, 0 to skip) of each attacker kind alone, with no normal
 * traffic: what one 15 KB User-Agent request and one 50 MB upload cost the server and the attacker.
 */
import { fork } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { BENCH_SECRET, flag, log, machine, option, ROOT, stats, treeCpuMs, writeResults } from "./bench/lib";
import { freePort, type NextServer, startNextServer } from "./next-server";

const DURATION_S = Number(option("duration", "120"));
const CLIENTS = Number(option("clients", "16"));
const WARMUP_S = Number(option("warmup", "10"));
/** Seconds of each attacker kind alone (no normal traffic) after the soak: the cost per attack. 0: skip. */
const PROBE_S = Number(option("probe", "10"));
const UA_ATTACKERS = 8;
const BODY_ATTACKERS = 4;
const LONG_UA = `Mozilla/5.0 (X11; Linux x86_64) ${"a".repeat(15_000)}`;
const FIFTY_MB = 50 * 1024 * 1024;
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const SIGN_IN_TOKEN_TYPE = "urn:tokendesk:params:oauth:token-type:sign-in-token";

/** The server's resident memory in MiB, from /proc. */
function rssMiB(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** Bytes a process has read through read(2)-like calls (sockets included), from /proc/<pid>/io. */
function bytesReadBy(pid: number | undefined): number {
  try {
    const m = /^rchar:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * The whole machine's busy CPU time so far (ms, every core), from /proc/stat: `busy` is user, nice,
 * system, irq and softirq; `irq` is the interrupt and softirq part alone — loopback TCP's receive
 * work mostly, which is charged to no process.
 */
function machineCpuMs(): { busy: number; irq: number } {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = f as [number, number, number, number, number, number, number];
  return { busy: ((user + nice + system + irq + softirq) * 1000) / 100, irq: ((irq + softirq) * 1000) / 100 };
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Where the CPU went during a phase (ms): whose, and the machine's load. */
interface CpuSplit {
  server: number;
  postgres: number;
  clients: number;
  attackers: number;
  /** Interrupts and softirqs: the kernel's network receive work, charged to no process. */
  irq: number;
  /** The machine's busy time minus the five above: other engineers' work on the shared box. */
  others: number;
  machine: number;
  /** The phase's wall time (ms): the machine's capacity is this × its cores. */
  wall: number;
  /** What the server read from its sockets and files during the phase (MB). */
  serverReadMB: number;
  load: [start: number, end: number];
}

/** Starts accounting the CPU of a phase; the returned function ends it (attackers' own figure given by their process). */
function cpuMeter(serverPid: number | undefined, pgPid: number | null) {
  const s0 = treeCpuMs(serverPid);
  const p0 = treeCpuMs(pgPid);
  const c0 = ownCpuMs();
  const m0 = machineCpuMs();
  const r0 = bytesReadBy(serverPid);
  const l0 = os.loadavg()[0]!;
  const t0 = performance.now();
  return (attackersMs: number): CpuSplit => {
    const server = treeCpuMs(serverPid) - s0;
    const postgres = treeCpuMs(pgPid) - p0;
    const clients = ownCpuMs() - c0;
    const m1 = machineCpuMs();
    const machineMs = m1.busy - m0.busy;
    const irq = m1.irq - m0.irq;
    const r = (x: number) => Math.round(x);
    return {
      server: r(server),
      postgres: r(postgres),
      clients: r(clients),
      attackers: r(attackersMs),
      irq: r(irq),
      others: r(Math.max(0, machineMs - server - postgres - clients - attackersMs - irq)),
      machine: r(machineMs),
      wall: r(performance.now() - t0),
      serverReadMB: Math.round((bytesReadBy(serverPid) - r0) / 1e5) / 10,
      load: [Math.round(l0 * 10) / 10, Math.round(os.loadavg()[0]! * 10) / 10],
    };
  };
}

// One keep-alive agent for the normal clients, as a backend's HTTP client would have.
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
}

/** One normal request (keep-alive), its body parsed when it is JSON. */
function request(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent,
        headers: body ? { ...headers, "Content-Length": String(Buffer.byteLength(body)) } : headers,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          let parsed: Record<string, unknown> | null = null;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * One attack request on its own connection: headers as given, then `bodyBytes` of body (declared or
 * chunked), written until all is sent or the server closes; resolves with the status the server
 * answered (0 when it closed without an answer).
 */
function attack(base: string, method: string, path: string, headers: Record<string, string>, bodyBytes = 0): Promise<number> {
  const url = new URL(path, base);
  return new Promise((resolve) => {
    let status = 0;
    let sent = 0;
    let answered = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(status);
    };
    // Never more than a minute per attempt, whatever the server does.
    const timer = setTimeout(finish, 60_000);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method, headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      const over = () => {
        answered = true;
        // An attacker that ignores the answer keeps writing until its body is out (or the server closes).
        if (sent >= bodyBytes) finish();
      };
      res.on("end", over);
      res.on("close", over);
      res.on("error", finish);
    });
    req.on("error", finish);
    req.on("close", finish);
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const pump = () => {
      while (sent < bodyBytes && !req.destroyed) {
        const n = Math.min(chunk.length, bodyBytes - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", pump);
      }
      if (req.destroyed) return;
      req.end();
      if (answered) finish();
    };
    pump();
  });
}

const UA_PATHS = ["/users", "/login", "/v2/users", "/api/live"];
const BODIES: Array<[path: string, type: string, chunked: boolean]> = [
  ["/api/auth/callback/credentials", "application/x-www-form-urlencoded", false],
  ["/v2/user", "application/json", false],
  ["/oauth/token", "application/x-www-form-urlencoded", true],
  ["/v1/Auth/Login", "application/json", true],
];

type AttackKind = "all" | "ua" | "body";

/** What the attackers' process reports: their answers counted, and its own CPU time (ms). */
interface AttackReport {
  counts: Record<string, number>;
  cpuMs: number;
}

/**
 * The attackers' loops for `seconds` (run in the child process): all of them, or only the User-Agent
 * or only the body attackers (the per-kind probe); resolves with their answers counted.
 */
async function attackFor(base: string, seconds: number, kind: AttackKind = "all"): Promise<Record<string, number>> {
  const end = Date.now() + seconds * 1000;
  const counts: Record<string, number> = {};
  const count = (what: string) => {
    counts[what] = (counts[what] ?? 0) + 1;
  };
  const uaAttacker = async (i: number) => {
    for (let n = i; Date.now() < end; n++) {
      const path = UA_PATHS[n % UA_PATHS.length]!;
      count(`15 KB User-Agent → ${await attack(base, "GET", path, { "User-Agent": LONG_UA })}`);
    }
  };
  const bodyAttacker = async (i: number) => {
    const [path, type, chunked] = BODIES[i % BODIES.length]!;
    const headers: Record<string, string> = {
      "Content-Type": type,
      ...(chunked ? { "Transfer-Encoding": "chunked" } : { "Content-Length": String(FIFTY_MB) }),
    };
    while (Date.now() < end) count(`50 MB ${chunked ? "chunked" : "declared"} ${path} → ${await attack(base, "POST", path, headers, FIFTY_MB)}`);
  };
  await Promise.all([
    ...Array.from({ length: kind === "body" ? 0 : UA_ATTACKERS }, (_, i) => uaAttacker(i)),
    ...Array.from({ length: kind === "ua" ? 0 : BODY_ATTACKERS }, (_, i) => bodyAttacker(i)),
  ]);
  return counts;
}

/** This script again, as `--attack <base> <seconds> <kind>`: the attackers in their own process. */
function startAttackers(base: string, seconds: number, kind: AttackKind = "all"): Promise<AttackReport> {
  const child = fork(fileURLToPath(import.meta.url), ["--attack", base, String(seconds), kind], {
    execArgv: process.execArgv,
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  let out = "";
  child.stdout!.on("data", (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(line) as AttackReport);
      } catch {
        reject(new Error(`the attackers' process exited with ${code}: ${out}`));
      }
    });
  });
}

interface Run {
  name: string;
  latencies: number[];
  byOp: Record<string, number[]>;
  fiveXx: number;
  otherNon2xx: Record<string, number>;
  clientErrors: number;
  attacks: Record<string, number>;
  rss: { start: number | null; middle: number | null; end: number | null };
  cpu: CpuSplit | null;
}

async function runPhase(name: string, base: string, key: string, server: NextServer, pgPid: number | null, seconds: number, attackers: boolean): Promise<Run> {
  const run: Run = {
    name,
    latencies: [],
    byOp: {},
    fiveXx: 0,
    otherNon2xx: {},
    clientErrors: 0,
    attacks: {},
    rss: { start: null, middle: null, end: null },
    cpu: null,
  };
  const pid = server.child.pid;
  run.rss.start = rssMiB(pid);
  const meter = cpuMeter(pid, pgPid);
  const middle = setTimeout(
    () => {
      run.rss.middle = rssMiB(pid);
    },
    (seconds * 1000) / 2,
  );
  const end = Date.now() + seconds * 1000;

  const timed = async (op: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> => {
    const t0 = performance.now();
    const a = await request(base, method, path, headers, body);
    const ms = performance.now() - t0;
    run.latencies.push(ms);
    run.byOp[op] ??= [];
    run.byOp[op].push(ms);
    if (a.status >= 500) run.fiveXx++;
    else if (a.status < 200 || a.status >= 300) run.otherNon2xx[`${op} ${a.status}`] = (run.otherNon2xx[`${op} ${a.status}`] ?? 0) + 1;
    return a;
  };

  const client = async (c: number) => {
    const created = await request(
      base,
      "POST",
      "/v2/user",
      { "X-Vital-API-Key": key, "Content-Type": "application/json" },
      JSON.stringify({ client_user_id: `soak-${name}-${c}-${Date.now()}` }),
    );
    const userId = String(created.body?.user_id);
    const keyed = { "X-Vital-API-Key": key, "Content-Type": "application/json" };
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    while (Date.now() < end) {
      try {
        const mint = await timed("mint", "POST", `/v2/user/${userId}/sign_in_token`, keyed, "{}");
        if (mint.status !== 200) continue;
        const exchange = await timed(
          "exchange",
          "POST",
          "/oauth/token",
          form,
          new URLSearchParams({
            grant_type: TOKEN_EXCHANGE,
            subject_token: String(mint.body?.sign_in_token),
            subject_token_type: SIGN_IN_TOKEN_TYPE,
            installation_id: `soak-${c}`,
          }).toString(),
        );
        if (exchange.status !== 200) continue;
        await timed("bearer", "GET", `/v2/user/${userId}`, { Authorization: `Bearer ${exchange.body?.access_token}` });
        const refresh = await timed(
          "refresh",
          "POST",
          "/oauth/token",
          form,
          new URLSearchParams({ grant_type: "refresh_token", refresh_token: String(exchange.body?.refresh_token) }).toString(),
        );
        if (refresh.status !== 200) continue;
        await timed("bearer", "GET", `/v2/user/${userId}`, { Authorization: `Bearer ${refresh.body?.access_token}` });
      } catch {
        run.clientErrors++;
      }
    }
  };

  // The attackers run in a child process: their writes must not hold up the measuring clients'
  // event loop (only the server and the machine are what is measured).
  const attacking = attackers ? startAttackers(base, seconds) : null;
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const report = attacking ? await attacking : null;
  if (report) Object.assign(run.attacks, report.counts);
  run.cpu = meter(report?.cpuMs ?? 0);
  clearTimeout(middle);
  run.rss.end = rssMiB(pid);
  for (const [what, n] of Object.entries(run.attacks)) if (/→ 5\d\d$/.test(what)) run.fiveXx += n;
  return run;
}

function summary(r: Run) {
  const all = stats(r.latencies);
  return {
    run: r.name,
    requests: all.n,
    p50: all.p50,
    p95: all.p95,
    p99: all.p99,
    perOperation: Object.fromEntries(Object.entries(r.byOp).map(([op, xs]) => [op, { n: xs.length, p50: stats(xs).p50, p95: stats(xs).p95 }])),
    fiveXx: r.fiveXx,
    otherNon2xx: r.otherNon2xx,
    clientErrors: r.clientErrors,
    attacks: r.attacks,
    rssMiB: r.rss,
    cpuMs: r.cpu,
  };
}

interface Probe {
  kind: AttackKind;
  attacks: Record<string, number>;
  cpuMs: CpuSplit;
  perAttack: { serverMs: number; attackerMs: number; serverReadKB: number; irqMs: number };
}

/** One attacker kind alone for `seconds`, nothing else sent: what one attack costs the server and the attacker. */
/**
 * One attacker kind alone for `seconds`, nothing else sent: what one attack costs the server (its
 * CPU beyond `idleMsPerS`, the idle server's own background work) and the attacker.
 */
async function probe(base: string, server: NextServer, pgPid: number | null, seconds: number, kind: AttackKind, idleMsPerS: number): Promise<Probe> {
  const meter = cpuMeter(server.child.pid, pgPid);
  const t0 = performance.now();
  const report = await startAttackers(base, seconds, kind);
  const cpu = meter(report.cpuMs);
  const elapsedS = (performance.now() - t0) / 1000;
  const n = Object.values(report.counts).reduce((a, b) => a + b, 0) || 1;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    kind,
    attacks: report.counts,
    cpuMs: cpu,
    perAttack: {
      serverMs: r(Math.max(0, cpu.server - idleMsPerS * elapsedS) / n),
      attackerMs: r(cpu.attackers / n),
      serverReadKB: r((cpu.serverReadMB * 1000) / n),
      irqMs: r(cpu.irq / n),
    },
  };
}

/** The idle server's own CPU (ms per second: timers, the janitor, metrics), over `seconds` of no traffic. */
async function idleCpu(server: NextServer, pgPid: number | null, seconds: number): Promise<number> {
  const meter = cpuMeter(server.child.pid, pgPid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return Math.round((meter(0).server / seconds) * 10) / 10;
}

async function main() {
  const standaloneOpt = option("standalone", path.join(ROOT, "dist", "standalone"));
  const standalone = fs.existsSync(path.join(standaloneOpt, "server.mjs")) && !process.argv.includes("--dist") ? path.resolve(standaloneOpt) : null;
  const dist = option("dist", ".next");
  if (!standalone && !fs.existsSync(path.join(ROOT, dist, "BUILD_ID"))) {
    console.error(`No build: run \`next build && node scripts/build-standalone.mjs\` first (or pass --dist <dir> of a next build).`);
    process.exit(1);
  }

  let dbUrl = option("db", "");
  let stopPg: (() => void) | null = null;
  let pgPid: number | null = null;
  if (!dbUrl) {
    const { startThrowawayPostgres } = await import("./pg-throwaway.mjs");
    const pg = await startThrowawayPostgres({ durable: true });
    dbUrl = pg.url;
    stopPg = pg.stop;
    pgPid = Number(fs.readFileSync(path.join(pg.dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
    log(`throwaway PostgreSQL at ${dbUrl}`);
  }
  const cleanup = () => stopPg?.();
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

  const port = await freePort();
  const env = { DATABASE_URL: dbUrl, TOKENDESK_SECRET: BENCH_SECRET, TRUSTED_PROXY: "none", LOG_LEVEL: "warn" };
  const server = await startNextServer({
    port,
    env: standalone ? env : { ...env, NEXT_DIST_DIR: dist },
    standaloneDir: standalone,
    timeoutMs: 300_000,
  });
  try {
    // The server migrated the database at its start; the Team API key goes straight into it.
    process.env.TOKENDESK_SECRET = BENCH_SECRET;
    process.env.DATABASE_URL = dbUrl;
    const { openDatabase } = await import("@/db/client");
    const { createApiKey, API_KEY_SCOPES } = await import("@/lib/api-keys");
    const { NO_REQUEST, systemActor } = await import("@/lib/context");
    const handle = await openDatabase({ databaseUrl: dbUrl, maxConnections: 1 });
    const { key } = await createApiKey(
      handle.db,
      systemActor("soak"),
      { name: "soak", environment: "sandbox", region: "us", scopes: [...API_KEY_SCOPES] },
      NO_REQUEST,
    );
    await handle.close();

    log(
      `soak: ${CLIENTS} clients, ${DURATION_S} s per run, server pid ${server.child.pid} (${standalone ? `standalone ${path.relative(ROOT, standalone)}` : `server.ts on ${dist}`}), ${machine().nproc} CPUs`,
    );
    if (WARMUP_S > 0) {
      await runPhase("warm-up", server.url, key, server, pgPid, WARMUP_S, false);
      log(`warm-up: ${WARMUP_S} s of normal traffic (not counted)`);
    }
    const alone = summary(await runPhase("alone", server.url, key, server, pgPid, DURATION_S, false));
    const attacked = summary(await runPhase("attacked", server.url, key, server, pgPid, DURATION_S, true));
    const probes: Probe[] = [];
    const idleMsPerS = PROBE_S > 0 ? await idleCpu(server, pgPid, 5) : 0;
    if (PROBE_S > 0) for (const kind of ["ua", "body"] as const) probes.push(await probe(server.url, server, pgPid, PROBE_S, kind, idleMsPerS));
    const ratio = Number((attacked.p95 / alone.p95).toFixed(2));

    const row = (s: ReturnType<typeof summary>) =>
      `${s.run.padEnd(9)} ${String(s.requests).padStart(8)} ${s.p50.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.fiveXx).padStart(5)} ${String(Object.values(s.otherNon2xx).reduce((a, b) => a + b, 0) + s.clientErrors).padStart(8)}   ${s.rssMiB.start} / ${s.rssMiB.middle} / ${s.rssMiB.end}`;
    console.log("");
    console.log(`run       requests   p50 ms   p95 ms   p99 ms   5xx  non-2xx   RSS MiB start / middle / end`);
    console.log(row(alone));
    console.log(row(attacked));
    console.log("");
    for (const s of [alone, attacked]) {
      console.log(
        `${s.run} per operation: ${Object.entries(s.perOperation)
          .map(([op, o]) => `${op} n=${o.n} p50=${o.p50.toFixed(1)} p95=${o.p95.toFixed(1)}`)
          .join("; ")}`,
      );
      if (Object.keys(s.otherNon2xx).length || s.clientErrors)
        console.log(`${s.run} non-2xx: ${JSON.stringify(s.otherNon2xx)}, client errors ${s.clientErrors}`);
    }
    console.log(
      `attackers' answers: ${Object.entries(attacked.attacks)
        .map(([what, n]) => `${what} ×${n}`)
        .join("; ")}`,
    );
    console.log(`p95 ratio attacked/alone: ${ratio} (goal ≤ 2); 5xx: ${alone.fiveXx} alone + ${attacked.fiveXx} attacked (goal 0)`);

    // Where the CPU went: the server's (what the attacks cost it) and the machine's (the attackers'
    // own process, the measuring clients, PostgreSQL, everyone else on the box).
    console.log("");
    console.log(
      `CPU seconds    server postgres  clients attackers  irq+soft   others   machine  of (wall × ${os.availableParallelism()} cores)  server read MB  load 1-min start → end`,
    );
    for (const s of [alone, attacked]) {
      const c = s.cpuMs!;
      const sec = (ms: number) => (ms / 1000).toFixed(1).padStart(9);
      console.log(
        `${s.run.padEnd(12)}${sec(c.server)}${sec(c.postgres)}${sec(c.clients)}${sec(c.attackers)}${sec(c.irq)}${sec(c.others)}${sec(c.machine)}${sec(c.wall * os.availableParallelism()).padStart(24)}${String(c.serverReadMB).padStart(16)}  ${c.load[0]} → ${c.load[1]}`,
      );
    }
    const perNormal = alone.cpuMs!.server / alone.requests;
    const attackCount = Object.values(attacked.attacks).reduce((a, b) => a + b, 0);
    const beyond = attacked.cpuMs!.server - perNormal * attacked.requests;
    console.log(
      `server CPU per normal request alone: ${perNormal.toFixed(2)} ms; attacked run beyond its normal requests: ${(beyond / 1000).toFixed(1)} s for ${attackCount} attacks = ${(beyond / Math.max(1, attackCount)).toFixed(2)} ms per attack`,
    );
    if (probes.length) console.log(`idle server (5 s, no traffic): ${idleMsPerS} ms CPU per second — taken out of the probes' per-attack figures`);
    for (const p of probes) {
      console.log(
        `probe ${p.kind === "ua" ? "15 KB User-Agents alone" : "50 MB bodies alone"} (${PROBE_S} s): ${Object.entries(p.attacks)
          .map(([what, n]) => `${what} ×${n}`)
          .join(
            "; ",
          )}; per attack: server ${p.perAttack.serverMs} ms CPU, ${p.perAttack.serverReadKB} KB read; attacker ${p.perAttack.attackerMs} ms CPU; the machine's irq+softirq ${p.perAttack.irqMs} ms`,
      );
    }
    if (flag("save"))
      log(
        `results: ${writeResults("soak", { machine: machine(), durationS: DURATION_S, clients: CLIENTS, alone, attacked, p95Ratio: ratio, idleMsPerS, probes })}`,
      );
  } finally {
    agent.destroy();
    await server.stop();
    cleanup();
  }
}

if (process.argv.includes("--attack")) {
  const i = process.argv.indexOf("--attack");
  const cpu0 = ownCpuMs(); // the attacks' own CPU, not this process's start
  const counts = await attackFor(process.argv[i + 1]!, Number(process.argv[i + 2]), (process.argv[i + 3] ?? "all") as AttackKind);
  console.log(JSON.stringify({ counts, cpuMs: Math.round(ownCpuMs() - cpu0) } satisfies AttackReport));
} else {
  await main();
}
