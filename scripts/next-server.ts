/**
 * Starts the production server (server.ts: the lean front with the production build of Next behind
 * it) as a child process on loopback with the given environment, and waits until /api/health
 * answers 200. Shared by the HTTP tests
 * (tests/helpers/server.ts), the rolling-upgrade test (tests/upgrade) and the benchmarks
 * (scripts/bench/lib.ts), which also need the child (its pid, for CPU accounting) and extra Node
 * flags (CPU profiles). superviseServer is the waiting and stopping, for a server spawned otherwise.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SERVER_NODE_FLAGS } from "./server-node-flags.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface NextServer {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export interface NextServerOptions {
  env: Record<string, string>;
  /** A free one when absent. */
  port?: number;
  /** Flags for the Node process itself (`--cpu-prof` is refused in NODE_OPTIONS). */
  nodeArgs?: string[];
  /** Generous by default: on a loaded 2-core machine a cold start with migrations takes a while. */
  timeoutMs?: number;
  /** Also append everything the server prints to this file (tests read its logs). */
  logFile?: string;
  /**
   * Run the assembled standalone server (scripts/build-standalone.mjs) instead of server.ts through
   * tsx: `node server.mjs` in that directory, exactly as the container starts it. Defaults to
   * TOKENDESK_STANDALONE_DIR (npm test sets it for the HTTP suite).
   */
  standaloneDir?: string | null;
  /** Another checkout's server.ts (the benchmark's before/after comparison); this one by default. */
  root?: string;
}

export async function startNextServer(opts: NextServerOptions): Promise<NextServer> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const root = opts.root ?? ROOT;
  const standalone = opts.standaloneDir === undefined ? process.env.TOKENDESK_STANDALONE_DIR || null : opts.standaloneDir;
  if (standalone && !fs.existsSync(path.join(standalone, "server.mjs"))) {
    throw new Error(`No standalone server in ${standalone}: run \`next build && node scripts/build-standalone.mjs\`.`);
  }
  const args = standalone ? [path.join(standalone, "server.mjs")] : ["--import", "tsx", path.join(root, "server.ts")];
  // Started as `npm start` and the container start it (server-node-flags.mjs), then the caller's flags.
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...(opts.nodeArgs ?? []), ...args], {
    cwd: standalone ?? root,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", PUBLIC_URL: url, PORT: String(port), HOST: "127.0.0.1", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // server.ts exits by itself within 5 s of SIGTERM (writing a CPU profile if asked to).
  return superviseServer(child, { url, port, timeoutMs, logFile: opts.logFile, killAfterMs: 10_000 });
}

export interface SuperviseOptions {
  url: string;
  port: number;
  /** What errors call it. */
  name?: string;
  timeoutMs: number;
  /** Started when this says so; by default when `/api/health` answers 200. */
  ready?: (url: string) => Promise<boolean>;
  /** Also append everything the server prints to this file. */
  logFile?: string;
  /** `stop()` sends SIGTERM, then SIGKILL after this long. */
  killAfterMs?: number;
}

const healthy = async (url: string) => (await fetch(`${url}/api/health`)).status === 200;

/**
 * A spawned server (stdout/stderr piped) watched until it is ready: its output is collected, a
 * child that exits or is not ready by the deadline fails with what it printed (and a late one is
 * killed), and `stop()` ends it — SIGTERM, SIGKILL if it lingers. startNextServer uses it for this
 * checkout's server; the rolling-upgrade test for the previous release's `next start`.
 */
export async function superviseServer(child: ChildProcess, o: SuperviseOptions): Promise<NextServer> {
  const name = o.name ?? "tokendesk";
  const ready = o.ready ?? healthy;
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  if (o.logFile) {
    const file = o.logFile;
    child.stdout!.on("data", (d) => fs.appendFileSync(file, d));
    child.stderr!.on("data", (d) => fs.appendFileSync(file, d));
  }
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} while starting:\n${log}`);
    if (await ready(o.url).catch(() => false)) break; // a refused connection: not listening yet
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not become ready within ${o.timeoutMs / 1000} s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: o.url,
    port: o.port,
    child,
    output: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), o.killAfterMs ?? 10_000).unref();
      }),
  };
}
