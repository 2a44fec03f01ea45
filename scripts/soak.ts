/**
 * The soak of issue 12 ("Done when"): normal traffic alone, then the same traffic with attackers,
 * against the production server (server.ts) on a throwaway PostgreSQL. Not part of `npm test`.
 *
 *   npx tsx scripts/soak.ts [--duration 120] [--workers 16] [--no-build] [--dist .next] [--db postgres://…]
 *
 * Normal traffic: `--workers` clients each looping mint (POST /v2/user/{id}/sign_in_token with a
 * Team API key) → exchange (POST /oauth/token) → bearer (GET /v2/user/{id} with the access token)
 * → refresh (POST /oauth/token, the client's own chain). Attackers (second phase only): 8 clients
 * looping GET /login and GET /v2/users with a 15 KB User-Agent, and 4 clients posting 50 MB bodies
 * (half declared by Content-Length to next-auth's credentials callback, half chunked to /v2/user).
 * Reported per phase: p50/p95/p99 of the normal requests, their 5xx count, the attackers' statuses,
 * the server's RSS (min/max, sampled every 2 s); and the p95 ratio attacked / alone (goal ≤ 2).
 */
import fs from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { BENCH_SECRET, buildIfNeeded, DIST_DIR, flag, log, option, type Server, startNext, stats, writeResults } from "./bench/lib";
import { freePort } from "./next-server";

const DURATION = Number(option("duration", "120"));
const WORKERS = Number(option("workers", "16"));
const UA = `Mozilla/5.0 ${"a".repeat(15_000)}`;
const FIFTY_MB = 50 * 1024 * 1024;

function rssMb(pid: number | undefined): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function json(url: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> | null }> {
  const res = await fetch(url, init);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: null };
  }
}

/** One 50 MB attempt; resolves with the status the server answered (or 0 if it only closed). */
function bigBody(base: string, chunked: boolean): Promise<number> {
  const url = new URL(chunked ? "/v2/user" : "/api/auth/callback/credentials", base);
  return new Promise((resolve) => {
    let answered = false;
    const headers: Record<string, string> = { "Content-Type": chunked ? "application/json" : "application/x-www-form-urlencoded" };
    if (chunked) headers["Transfer-Encoding"] = "chunked";
    else headers["Content-Length"] = String(FIFTY_MB);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers, agent: false }, (res) => {
      answered = true;
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => {
      if (!answered) resolve(0);
    });
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < FIFTY_MB && !answered && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

interface Phase {
  name: string;
  latencies: number[];
  byOp: Record<string, number[]>;
  fiveXx: number;
  errors: number;
  attacks: Record<string, number>;
  rss: number[];
}

async function runPhase(name: string, base: string, key: string, server: Server, attackers: boolean): Promise<Phase> {
  const phase: Phase = { name, latencies: [], byOp: {}, fiveXx: 0, errors: 0, attacks: {}, rss: [] };
  const end = Date.now() + DURATION * 1000;
  const record = (op: string, ms: number, status: number) => {
    phase.latencies.push(ms);
    phase.byOp[op] ??= [];
    phase.byOp[op].push(ms);
    if (status >= 500) phase.fiveXx++;
  };
  const timed = async (op: string, url: string, init: RequestInit) => {
    const t0 = performance.now();
    const r = await json(url, init);
    record(op, performance.now() - t0, r.status);
    return r;
  };
  const sampler = setInterval(() => {
    const mb = rssMb(server.child.pid);
    if (mb !== null) phase.rss.push(mb);
  }, 2000);

  const worker = async (w: number) => {
    const user = await json(`${base}/v2/user`, {
      method: "POST",
      headers: { "X-Vital-API-Key": key, "Content-Type": "application/json" },
      body: JSON.stringify({ client_user_id: `soak-${name}-${w}-${Date.now()}` }),
    });
    const userId = String(user.body?.user_id);
    let refresh: string | null = null;
    while (Date.now() < end) {
      try {
        const mint = await timed("mint", `${base}/v2/user/${userId}/sign_in_token`, {
          method: "POST",
          headers: { "X-Vital-API-Key": key, "Content-Type": "application/json" },
          body: "{}",
        });
        const token = String(mint.body?.sign_in_token);
        const ex = await timed("exchange", `${base}/oauth/token`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
            subject_token: token,
            subject_token_type: "urn:tokendesk:params:oauth:token-type:sign-in-token",
            installation_id: `soak-${w}`,
          }).toString(),
        });
        const access = String(ex.body?.access_token);
        refresh ??= String(ex.body?.refresh_token);
        await timed("bearer", `${base}/v2/user/${userId}`, { headers: { Authorization: `Bearer ${access}` } });
        const rf = await timed("refresh", `${base}/oauth/token`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refresh }).toString(),
        });
        refresh = rf.status === 200 ? String(rf.body?.refresh_token) : null;
      } catch {
        phase.errors++;
      }
    }
  };

  const count = (what: string) => {
    phase.attacks[what] = (phase.attacks[what] ?? 0) + 1;
  };
  const uaAttacker = async (i: number) => {
    while (Date.now() < end) {
      try {
        const res = await fetch(`${base}${i % 2 ? "/login" : "/v2/users"}`, { headers: { "User-Agent": UA } });
        await res.arrayBuffer();
        count(`long UA → ${res.status}`);
      } catch {
        count("long UA → error");
      }
    }
  };
  const bodyAttacker = async (i: number) => {
    while (Date.now() < end) count(`50 MB ${i % 2 ? "chunked" : "declared"} → ${await bigBody(base, i % 2 === 1)}`);
  };

  await Promise.all([
    ...Array.from({ length: WORKERS }, (_, w) => worker(w)),
    ...(attackers ? [...Array.from({ length: 8 }, (_, i) => uaAttacker(i)), ...Array.from({ length: 4 }, (_, i) => bodyAttacker(i))] : []),
  ]);
  clearInterval(sampler);
  return phase;
}

function summary(p: Phase) {
  const all = stats(p.latencies);
  return {
    phase: p.name,
    requests: p.latencies.length,
    p50: all.p50,
    p95: all.p95,
    p99: all.p99,
    perOperationP95: Object.fromEntries(Object.entries(p.byOp).map(([op, xs]) => [op, stats(xs).p95])),
    fiveXx: p.fiveXx,
    clientErrors: p.errors,
    attacks: p.attacks,
    rssMb: p.rss.length ? { min: Math.min(...p.rss), max: Math.max(...p.rss), last: p.rss.at(-1) } : null,
  };
}

async function main() {
  // --dist .next reuses the HTTP tests' build instead of the benchmark's own.
  const dist = option("dist", DIST_DIR);
  if (!flag("no-build") && dist === DIST_DIR) buildIfNeeded();
  let dbUrl = option("db", "");
  let stopPg: (() => void) | null = null;
  if (!dbUrl) {
    const { startThrowawayPostgres } = await import("./pg-throwaway.mjs");
    const pg = await startThrowawayPostgres({ durable: true });
    dbUrl = pg.url;
    stopPg = pg.stop;
  }
  process.env.DATABASE_URL = dbUrl;
  process.env.TOKENDESK_SECRET = BENCH_SECRET;
  const { openDatabase, migrateDatabase } = await import("@/db/client");
  const { createApiKey, API_KEY_SCOPES } = await import("@/lib/api-keys");
  const { NO_REQUEST, systemActor } = await import("@/lib/context");
  const handle = await openDatabase({ databaseUrl: dbUrl, maxConnections: 2 });
  await migrateDatabase(handle);
  const { key } = await createApiKey(
    handle.db,
    systemActor("soak"),
    { name: "soak", environment: "sandbox", region: "us", scopes: [...API_KEY_SCOPES] },
    NO_REQUEST,
  );
  await handle.close();

  const port = await freePort();
  const server = await startNext(port, { DATABASE_URL: dbUrl, TOKENDESK_SECRET: BENCH_SECRET, NEXT_DIST_DIR: dist, TRUSTED_PROXY: "none" });
  const base = server.url;
  try {
    log(`soak: ${WORKERS} normal clients, ${DURATION} s per phase, server pid ${server.child.pid}`);
    const alone = summary(await runPhase("alone", base, key, server, false));
    log("alone:", JSON.stringify(alone));
    const attacked = summary(await runPhase("attacked", base, key, server, true));
    log("attacked:", JSON.stringify(attacked));
    const result = { machine: "2 vCPU", duration: DURATION, workers: WORKERS, alone, attacked, p95Ratio: Number((attacked.p95 / alone.p95).toFixed(2)) };
    log(`p95 ratio attacked/alone: ${result.p95Ratio} (goal ≤ 2); 5xx: ${alone.fiveXx} + ${attacked.fiveXx}`);
    log(`results: ${writeResults("soak", result)}`);
  } finally {
    await server.stop();
    stopPg?.();
  }
}

await main();
