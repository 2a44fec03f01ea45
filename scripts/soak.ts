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
 */
import { fork } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { BENCH_SECRET, flag, log, machine, option, ROOT, stats, writeResults } from "./bench/lib";
import { freePort, type NextServer, startNextServer } from "./next-server";

const DURATION_S = Number(option("duration", "120"));
const CLIENTS = Number(option("clients", "16"));
const WARMUP_S = Number(option("warmup", "10"));
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

/** The attackers' loops for `seconds` (run in the child process); resolves with their answers counted. */
async function attackFor(base: string, seconds: number): Promise<Record<string, number>> {
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
  await Promise.all([...Array.from({ length: UA_ATTACKERS }, (_, i) => uaAttacker(i)), ...Array.from({ length: BODY_ATTACKERS }, (_, i) => bodyAttacker(i))]);
  return counts;
}

/** This script again, as `--attack <base> <seconds>`: the attackers in their own process. */
function startAttackers(base: string, seconds: number): Promise<Record<string, number>> {
  const child = fork(fileURLToPath(import.meta.url), ["--attack", base, String(seconds)], {
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
        resolve(JSON.parse(line) as Record<string, number>);
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
}

async function runPhase(name: string, base: string, key: string, server: NextServer, seconds: number, attackers: boolean): Promise<Run> {
  const run: Run = { name, latencies: [], byOp: {}, fiveXx: 0, otherNon2xx: {}, clientErrors: 0, attacks: {}, rss: { start: null, middle: null, end: null } };
  const pid = server.child.pid;
  run.rss.start = rssMiB(pid);
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
  if (attacking) Object.assign(run.attacks, await attacking);
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
  };
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
  if (!dbUrl) {
    const { startThrowawayPostgres } = await import("./pg-throwaway.mjs");
    const pg = await startThrowawayPostgres({ durable: true });
    dbUrl = pg.url;
    stopPg = pg.stop;
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
      await runPhase("warm-up", server.url, key, server, WARMUP_S, false);
      log(`warm-up: ${WARMUP_S} s of normal traffic (not counted)`);
    }
    const alone = summary(await runPhase("alone", server.url, key, server, DURATION_S, false));
    const attacked = summary(await runPhase("attacked", server.url, key, server, DURATION_S, true));
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
    if (flag("save"))
      log(`results: ${writeResults("soak", { machine: machine(), durationS: DURATION_S, clients: CLIENTS, alone, attacked, p95Ratio: ratio })}`);
  } finally {
    agent.destroy();
    await server.stop();
    cleanup();
  }
}

if (process.argv.includes("--attack")) {
  const i = process.argv.indexOf("--attack");
  console.log(JSON.stringify(await attackFor(process.argv[i + 1]!, Number(process.argv[i + 2]))));
} else {
  await main();
}
