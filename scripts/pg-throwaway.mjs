#!/usr/bin/env node
/**
 * A throwaway PostgreSQL cluster from the binaries on this machine: a temp directory, a free port on
 * 127.0.0.1, trust auth, gone when stopped. Used by `npm test`, `.ci/run` and `npm run bench`.
 *
 *   node scripts/pg-throwaway.mjs serve [--url-file F] [--durable]   # runs until SIGTERM/SIGINT
 *   import { startThrowawayPostgres } from "./pg-throwaway.mjs"        # { url, stop() }
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export function findPostgresBin() {
  const candidates = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  try {
    for (const v of fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    /* not a Debian layout */
  }
  try {
    candidates.push(execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim());
  } catch {
    /* no pg_config on PATH */
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, "initdb")) && fs.existsSync(path.join(dir, "pg_ctl"))) ?? null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` system user then. */
function runAs() {
  if (process.getuid?.() !== 0) return null;
  const r = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("Running as root needs a 'postgres' system user to own the throwaway cluster.");
  return { uid: Number(r.stdout.trim()), gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim()) };
}

function run(bin, args, user) {
  const r = user ? spawnSync("runuser", ["-u", "postgres", "--", bin, ...args], { encoding: "utf8" }) : spawnSync(bin, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${path.basename(bin)} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * `sharedBuffers`: 256MB suits the test suite; the scale benchmark asks for more, as a production
 * server holding a 1M-user table would have (PostgreSQL's guidance is about a quarter of RAM).
 */
export async function startThrowawayPostgres({ durable = false, sharedBuffers = "256MB" } = {}) {
  const bin = findPostgresBin();
  if (!bin) throw new Error("No PostgreSQL binaries found (set PG_BIN to the directory holding initdb and pg_ctl).");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tokendesk-pg-"));
  const user = runAs();
  if (user) fs.chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"], user);
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=400",
    `-c shared_buffers=${sharedBuffers}`,
    // Tests only: skip fsync so the suite is fast. Benchmarks ask for durable commits (the default).
    ...(durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
  ].join(" ");
  run(path.join(bin, "pg_ctl"), ["-D", data, "-o", opts, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"], user);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], user);
    } catch {
      /* already down */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { url, port, dir, stop };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === "serve") {
  const urlFileIdx = process.argv.indexOf("--url-file");
  const pg = await startThrowawayPostgres({ durable: process.argv.includes("--durable") });
  if (urlFileIdx > 0) fs.writeFileSync(process.argv[urlFileIdx + 1], `${pg.url}\n`);
  console.log(pg.url);
  const shutdown = () => {
    pg.stop();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  setInterval(() => {}, 1 << 30);
}
