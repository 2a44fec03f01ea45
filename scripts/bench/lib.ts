/**
 * Small helpers shared by the benchmark scripts: flags, timing statistics, a concurrency pool,
 * autocannon with exact percentiles, starting `next start` (scripts/next-server.ts), machine facts.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { type NextServer, startNextServer } from "../next-server";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
/**
 * `--profile` runs an unminified build of its own, so CPU profiles name our functions (the machine
 * API runs from source through tsx either way); `--dist-dir` names another build directory.
 */
export const DIST_DIR =
  process.argv.indexOf("--dist-dir") > 0
    ? process.argv[process.argv.indexOf("--dist-dir") + 1]!
    : process.argv.includes("--profile")
      ? ".next-bench-profile"
      : ".next-bench";
export const BENCH_SECRET = "tokendesk-bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}
export function option(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

export const log = (...a: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

export interface Stats {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function stats(samples: number[]): Stats {
  const s = Float64Array.from(samples).sort();
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]! : NaN);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { n: s.length, mean: r(mean), p50: r(q(0.5)), p95: r(q(0.95)), p99: r(q(0.99)), max: r(s[s.length - 1] ?? NaN) };
}

/** Runs `fn(i)` for i in 0..n-1 with at most `concurrency` in flight. */
export async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** `concurrency` loops calling `fn` until `seconds` pass; per-call latencies in ms. */
export async function timedLoop(seconds: number, concurrency: number, fn: (worker: number) => Promise<void>) {
  const lat: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end) {
        const t = performance.now();
        await fn(w);
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { opsPerSec: Math.round(lat.length / elapsed), latencyMs: stats(lat) };
}

export interface HttpRun {
  name: string;
  requests: number;
  reqPerSec: number;
  latencyMs: Stats;
  non2xx: number;
  errors: number;
  connections: number;
  durationS: number;
  /** Open-loop runs: the offered rate (requests per second, spread evenly over the connections). */
  offeredRate?: number;
  firstFailure?: string;
  /** CPU ms per request spent by the server process tree and by PostgreSQL (all backends). */
  serverCpuMsPerReq?: number;
  postgresCpuMsPerReq?: number;
  /** A measurement of several rounds (`combineRounds`): each round's own figures. */
  rounds?: Array<{ reqPerSec: number; serverCpuMsPerReq?: number; postgresCpuMsPerReq?: number; p99: number; max?: number; stall?: StallClues }>;
  /** Open-loop runs: what could have held requests back (see StallClues). */
  stall?: StallClues;
}

/**
 * Where an open-loop run's slowest answers could have come from, measured over the run: the load
 * generator itself (its event loop blocked, so requests left late: latency counts from when a
 * request was due), and whatever `pacedRun`'s caller probes on the server side (its GC pauses and
 * event-loop lag from /metrics, PostgreSQL's checkpoints).
 */
export interface StallClues {
  /** The generator's longest event-loop block (ms). */
  clientLoopMaxMs: number;
  /** The latest a request left after it was due (ms). */
  clientSendLateMaxMs: number;
  [probe: string]: number;
}

/** Every latency of a run (ms), kept off the JSON results: combineRounds pools them. */
const latencies = new WeakMap<HttpRun, number[]>();

function withLatencies(run: HttpRun, lat: number[]): HttpRun {
  latencies.set(run, lat);
  return run;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * One figure from several rounds of the same measurement (interleaved with the other fronts' rounds,
 * so that the machine's drift touches all alike): the median round's req/s and CPU per request —
 * a round disturbed by someone else's burst does not decide it — and latency percentiles over the
 * pooled latencies of all rounds (a p99 of 3 × 400 requests instead of one slow tail out of 400).
 */
export function combineRounds(runs: HttpRun[]): HttpRun {
  if (runs.length === 1) return runs[0]!;
  const first = runs[0]!;
  const pooled = runs.flatMap((r) => latencies.get(r) ?? []);
  const med = (f: (r: HttpRun) => number | undefined) => {
    const xs = runs.map(f).filter((x): x is number => x !== undefined);
    return xs.length ? Math.round(median(xs) * 1000) / 1000 : undefined;
  };
  const failure = runs.find((r) => r.firstFailure)?.firstFailure;
  const serverCpu = med((r) => r.serverCpuMsPerReq);
  const postgresCpu = med((r) => r.postgresCpuMsPerReq);
  const run: HttpRun = {
    name: first.name,
    requests: runs.reduce((n, r) => n + r.requests, 0),
    reqPerSec: med((r) => r.reqPerSec)!,
    latencyMs: stats(pooled),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    connections: first.connections,
    durationS: Math.round(runs.reduce((n, r) => n + r.durationS, 0) * 100) / 100,
    ...(first.offeredRate ? { offeredRate: first.offeredRate } : {}),
    ...(failure ? { firstFailure: failure } : {}),
    ...(serverCpu !== undefined ? { serverCpuMsPerReq: serverCpu } : {}),
    ...(postgresCpu !== undefined ? { postgresCpuMsPerReq: postgresCpu } : {}),
    rounds: runs.map((r) => ({
      reqPerSec: r.reqPerSec,
      serverCpuMsPerReq: r.serverCpuMsPerReq,
      postgresCpuMsPerReq: r.postgresCpuMsPerReq,
      p99: r.latencyMs.p99,
      max: r.latencyMs.max,
      ...(r.stall ? { stall: r.stall } : {}),
    })),
  };
  logRun({ ...run, name: `${run.name} (median of ${runs.length})` });
  return withLatencies(run, pooled);
}

export interface HttpSpec {
  name: string;
  url: string;
  method?: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Called before every request (single-use tokens); returns the fields to set. */
  next?: () => { path?: string; body?: string; headers?: Record<string, string> };
  connections: number;
  duration?: number;
  amount?: number;
  /** Whose CPU the run reports per request (process trees, from /proc); `cpuWatch` when absent. */
  cpu?: { server: number | null; postgres: number | null };
}

/**
 * One autocannon run. Latencies come from every response (autocannon's own histogram has no p95).
 * For 2xx checking we keep the first non-2xx body to explain a failure.
 */
export async function httpRun(spec: HttpSpec): Promise<HttpRun> {
  const lat: number[] = [];
  let firstFailure: string | undefined;
  const baseHeaders = { ...(spec.headers ?? {}) };
  const request: Record<string, unknown> = {
    method: spec.method ?? "GET",
    path: spec.path,
    headers: baseHeaders,
    body: spec.body,
    onResponse: (status: number, body: string) => {
      if ((status < 200 || status > 299) && !firstFailure) firstFailure = `HTTP ${status} ${String(body).slice(0, 300)}`;
    },
  };
  if (spec.next) {
    const next = spec.next;
    request.setupRequest = (req: Record<string, any>) => {
      const n = next();
      return { ...req, path: n.path ?? req.path, body: n.body ?? req.body, headers: { ...baseHeaders, ...(n.headers ?? {}) } };
    };
  }
  const watch = spec.cpu ?? cpuWatch;
  const cpu0 = [treeCpuMs(watch.server), treeCpuMs(watch.postgres)];
  const t0 = performance.now();
  let tLast = t0;
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.duration ?? 10 }),
    requests: [request],
    timeout: 30,
  });
  instance.on("response", (_client: unknown, _statusCode: number, _bytes: number, responseTime: number) => {
    lat.push(responseTime);
    tLast = performance.now();
  });
  const result = await instance;
  // Until the last response: autocannon itself only stops on its 1-second tick, which would
  // understate the rate of short fixed-amount runs.
  const elapsed = (tLast - t0) / 1000;
  const cpu1 = [treeCpuMs(watch.server), treeCpuMs(watch.postgres)];
  const perReq = (i: number) => (lat.length ? Math.round(((cpu1[i]! - cpu0[i]!) / lat.length) * 1000) / 1000 : 0);
  const run: HttpRun = {
    name: spec.name,
    requests: lat.length,
    reqPerSec: Math.round((lat.length / elapsed) * 10) / 10,
    latencyMs: stats(lat),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    connections: spec.connections,
    durationS: Math.round(elapsed * 100) / 100,
    ...(firstFailure ? { firstFailure } : {}),
    ...(watch.server ? { serverCpuMsPerReq: perReq(0) } : {}),
    ...(watch.postgres ? { postgresCpuMsPerReq: perReq(1) } : {}),
  };
  logRun(run);
  return withLatencies(run, lat);
}

function logRun(run: HttpRun): void {
  log(
    `${run.name.padEnd(44)} c${String(run.connections).padEnd(3)} ${String(run.reqPerSec).padStart(8)} req/s  p50 ${run.latencyMs.p50} p95 ${run.latencyMs.p95} p99 ${run.latencyMs.p99} ms` +
      (run.serverCpuMsPerReq !== undefined ? `  cpu/req server ${run.serverCpuMsPerReq} pg ${run.postgresCpuMsPerReq ?? "-"} ms` : "") +
      (run.offeredRate ? `  (offered ${run.offeredRate}/s)` : "") +
      (run.non2xx || run.errors ? `  non2xx=${run.non2xx} errors=${run.errors} ${run.firstFailure ?? ""}` : ""),
  );
}

/**
 * An open-loop run: `amount` requests offered at `rate` per second, evenly spaced, request i on
 * connection i mod `connections` (each a keep-alive socket of its own, like one client each: a
 * request whose connection is still busy waits for it). Latency counts from the moment the request
 * was due, so time spent waiting behind a slow answer is counted (no coordinated omission).
 * autocannon cannot do this: its rate limit releases each connection's quota at the start of every
 * second, i.e. in bursts.
 */
export async function pacedRun(
  spec: HttpSpec & { rate: number; amount: number; probe?: () => Promise<() => Promise<Record<string, number>>> },
): Promise<HttpRun> {
  const target = new URL(spec.url);
  const agents = Array.from({ length: spec.connections }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const send = (agent: http.Agent, method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
          agent,
          headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  // Open every connection first (on the empty route), so that connecting is not measured.
  await Promise.all(agents.map((a) => send(a, "GET", "/api/live", {})));
  const lat: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let firstFailure: string | undefined;
  const watch = spec.cpu ?? cpuWatch;
  const probed = spec.probe ? await spec.probe() : null;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let sendLateMax = 0;
  const cpu0 = [treeCpuMs(watch.server), treeCpuMs(watch.postgres)];
  const interval = 1000 / spec.rate;
  const t0 = performance.now();
  let tLast = t0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < spec.amount; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const n = spec.next?.() ?? {};
    const headers = { ...(spec.headers ?? {}), ...(n.headers ?? {}) };
    sendLateMax = Math.max(sendLateMax, performance.now() - due);
    inFlight.push(
      send(agents[i % agents.length]!, spec.method ?? "GET", n.path ?? spec.path, headers, n.body ?? spec.body).then(
        (r) => {
          tLast = performance.now();
          lat.push(tLast - due);
          if (r.status < 200 || r.status > 299) {
            non2xx++;
            firstFailure ??= `HTTP ${r.status} ${r.body.slice(0, 300)}`;
          }
        },
        (err: Error) => {
          errors++;
          firstFailure ??= String(err);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const cpu1 = [treeCpuMs(watch.server), treeCpuMs(watch.postgres)];
  loop.disable();
  const round = (x: number) => Math.round(x * 10) / 10;
  const stall: StallClues = {
    clientLoopMaxMs: round(loop.max / 1e6),
    clientSendLateMaxMs: round(sendLateMax),
    ...(probed ? await probed() : {}),
  };
  for (const a of agents) a.destroy();
  const elapsed = (tLast - t0) / 1000;
  const perReq = (k: number) => (lat.length ? Math.round(((cpu1[k]! - cpu0[k]!) / lat.length) * 1000) / 1000 : 0);
  const run: HttpRun = {
    name: spec.name,
    requests: lat.length,
    reqPerSec: Math.round((lat.length / elapsed) * 10) / 10,
    latencyMs: stats(lat),
    non2xx,
    errors,
    connections: spec.connections,
    durationS: Math.round(elapsed * 100) / 100,
    offeredRate: Math.round(spec.rate),
    ...(firstFailure ? { firstFailure } : {}),
    ...(watch.server ? { serverCpuMsPerReq: perReq(0) } : {}),
    ...(watch.postgres ? { postgresCpuMsPerReq: perReq(1) } : {}),
    stall,
  };
  logRun(run);
  log(
    `  slowest ${run.latencyMs.max} ms; ${Object.entries(stall)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  return withLatencies(run, lat);
}

/** CPU time (ms, user + system) used so far by a process and its descendants, from /proc. */
export function treeCpuMs(rootPid: number | undefined | null): number {
  if (!rootPid) return 0;
  const kids = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(name);
      const ppid = Number(f[1]);
      cpu.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / 100);
      kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    total += cpu.get(pid) ?? 0;
    stack.push(...(kids.get(pid) ?? []));
  }
  return total;
}

/**
 * CPU time (ms) used so far by a process and its descendants, from each one's
 * /proc/<pid>/schedstat (nanoseconds on the CPU), found through /proc/<pid>/task/<pid>/children:
 * precise enough to difference short stretches (`stat`'s ticks are 10 ms per process), and cheap
 * enough to read between batches of a few operations. Time of a descendant that exited between two
 * readings is lost (an autovacuum worker): a reading covers the long-lived processes.
 */
export function treeCpuPreciseMs(rootPid: number | undefined | null): number {
  if (!rootPid) return 0;
  let ns = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
      const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      if (kids) for (const k of kids.split(" ")) stack.push(Number(k));
    } catch {
      /* gone */
    }
  }
  return ns / 1e6;
}

/** Set by the runner: whose CPU time each HTTP run reports per request. */
export const cpuWatch: { server: number | null; postgres: number | null } = { server: null, postgres: null };

export type Server = NextServer;

/** The build in DIST_DIR on `port` (scripts/next-server.ts, shared with the HTTP tests). */
export function startNext(port: number, env: Record<string, string>, nodeArgs: string[] = [], root?: string): Promise<Server> {
  if (root && !fs.existsSync(path.join(root, DIST_DIR))) fs.symlinkSync(path.join(ROOT, DIST_DIR), path.join(root, DIST_DIR));
  if (root && !fs.existsSync(path.join(root, "node_modules"))) fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
  return startNextServer({ port, env: { NEXT_DIST_DIR: DIST_DIR, ...env }, nodeArgs, timeoutMs: 180_000, root, standaloneDir: null });
}

export function buildIfNeeded(): void {
  const buildId = path.join(ROOT, DIST_DIR, "BUILD_ID");
  if (flag("no-build") && fs.existsSync(buildId)) {
    log(`--no-build: using the existing build in ${DIST_DIR}`);
    return;
  }
  log(`building into ${DIST_DIR} (next build)…`);
  const t = performance.now();
  execFileSync(process.execPath, [path.join(ROOT, "node_modules", "next", "dist", "bin", "next"), "build"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      NEXT_DIST_DIR: DIST_DIR,
      ...(flag("profile") ? { TOKENDESK_PROFILE_BUILD: "1" } : {}),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  log(`build done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}

export function machine() {
  let gitCommit: string | null = null;
  try {
    gitCommit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    /* not a checkout */
  }
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    gitCommit,
  };
}

export function writeResults(mode: string, data: unknown): string {
  const dir = path.join(ROOT, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-${mode}.json`);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
