#!/usr/bin/env node
/**
 * `npm test`: the whole suite, in the order that fails fastest.
 *   0. the SDK package's build (packages/sdk → dist; the tests import @tokendesk/sdk by its name),
 *      type check and lint/format check          (next typegen + tsc --noEmit, biome check)
 *   1. unit tests                                (vitest, no database)
 *   2. a production build (standalone output) and the container's server assembled from it
 *   3. two lanes at the same time (the second's output printed as each of its steps ends, after the
 *      first lane: see lanes() below):
 *      a. integration tests on real PostgreSQL   (vitest, in-process domain core, TEST_DB=postgres),
 *         then the HTTP tests against the container's server on PostgreSQL (`node server.mjs` in
 *         dist/standalone), then the rolling-upgrade test (the previous release, built from git once
 *         and cached in node_modules/.cache, and this build on one PostgreSQL; tests/upgrade)
 *      b. integration tests on embedded PGlite   (the same files)
 *   4. Playwright in Chromium                    (the console, as each role; embedded database)
 *   5. Playwright again on PostgreSQL            (the RBAC walk and the users spec, on a fresh database)
 * TOKENDESK_TEST_SERIAL=1 runs every step one after another: pglite, postgres, build, standalone,
 * http, upgrade (the previous release then built by the upgrade step itself).
 * Each step prints how long it took.
 * PostgreSQL: TEST_DATABASE_URL if set (CI sets it), otherwise a throwaway cluster is started here
 * from the binaries on the machine and removed afterwards.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startThrowawayPostgres } from "./pg-throwaway.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const only = process.argv.slice(2); // e.g. `npm test -- unit http`
const wanted = (step) => only.length === 0 || only.includes(step);

let pg = null;
let databaseUrl = process.env.TEST_DATABASE_URL;
if (!databaseUrl && (wanted("postgres") || wanted("http") || wanted("upgrade") || wanted("e2e-postgres"))) {
  pg = await startThrowawayPostgres();
  databaseUrl = pg.url;
  console.log(`test: started a throwaway PostgreSQL at ${databaseUrl}`);
}
const cleanup = () => pg?.stop();
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

// Each runner also writes a JSON report, so the run can end with one line that totals them all.
const reports = fs.mkdtempSync(path.join(os.tmpdir(), "tokendesk-test-"));
const totals = { passed: 0, failed: 0, skipped: 0 };
process.on("exit", () => fs.rmSync(reports, { recursive: true, force: true }));

function count(name, kind) {
  const file = path.join(reports, `${name}.json`);
  if (!fs.existsSync(file)) return;
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  if (kind === "vitest") {
    totals.passed += r.numPassedTests ?? 0;
    totals.failed += r.numFailedTests ?? 0;
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } else {
    totals.passed += (r.stats?.expected ?? 0) + (r.stats?.flaky ?? 0);
    totals.failed += r.stats?.unexpected ?? 0;
    totals.skipped += r.stats?.skipped ?? 0;
  }
}

const vitestArgs = (name, project) => [
  "run",
  "--project",
  project,
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${path.join(reports, `${name}.json`)}`,
];

function vitest(name, project, env = {}) {
  step(name, bin("vitest"), vitestArgs(name, project), env, "vitest");
}

function failed(name, status) {
  console.error(`\n${totals.passed} passed, ${Math.max(totals.failed, 1)} failed`);
  console.error(`\ntest: step "${name}" failed (exit ${status}).`);
  process.exit(typeof status === "number" && status > 0 ? status : 1);
}

/** One step, as a child process; its output to the terminal, or to `log` when given. */
function spawnStep(s, log) {
  const fd = log ? fs.openSync(log, "a") : null;
  const started = Date.now();
  const child = spawn(s.cmd, s.args, {
    cwd: root,
    stdio: fd === null ? "inherit" : ["ignore", fd, fd],
    env: { ...process.env, TEST_DATABASE_URL: databaseUrl ?? "", ...s.env },
  });
  if (fd !== null) fs.closeSync(fd);
  return new Promise((resolve) => {
    const done = (status) => resolve({ ...s, log, status, seconds: Math.round((Date.now() - started) / 1000) });
    child.on("error", (err) => done(String(err)));
    child.on("exit", (code, signal) => done(code ?? signal));
  });
}

/**
 * Runs lanes at the same time; each lane is steps run one after another (a lane stops at its first
 * failed step). The first lane's output goes to the terminal as it comes; each other step's output
 * goes to a file, printed whole once the first lane has ended and that step has ended (one step's
 * lines stay together). Every step prints how long it took; the run fails after all lanes have
 * ended if any step failed. A step's `before()` (awaited in its lane) may return a line to print
 * above its output.
 */
async function lanes(list) {
  const chosen = list.map((lane) => lane.filter((s) => wanted(s.name))).filter((lane) => lane.length > 0);
  if (chosen.length === 0) return;
  const alongside = (i) =>
    chosen
      .filter((_, j) => j !== i)
      .flat()
      .map((s) => s.name)
      .join(" → ");
  // One promise per step of the other lanes, settled when the step has ended (null: not run).
  const ended = new Map();
  const settle = new Map();
  for (const s of chosen.slice(1).flat()) ended.set(s.name, new Promise((resolve) => settle.set(s.name, resolve)));
  const failures = [];
  const runs = chosen.map(async (lane, i) => {
    let stopped = false;
    for (const s of lane) {
      if (stopped) {
        settle.get(s.name)?.(null);
        continue;
      }
      const log = i === 0 ? null : path.join(reports, `${s.name}.log`);
      if (i === 0) console.log(`\n=== ${s.name} ===${chosen.length > 1 ? ` (alongside: ${alongside(0)}, printed when this lane ends)` : ""}`);
      const note = s.before ? await s.before() : null;
      if (note && i === 0) console.log(note);
      if (note && log) fs.writeFileSync(log, `${note}\n`);
      const r = await spawnStep(s, log);
      if (i === 0) {
        console.log(`=== ${r.name}: ${r.seconds} s ===`);
        if (r.kind) count(r.name, r.kind);
        if (r.status !== 0) failures.push(r);
      }
      settle.get(s.name)?.(r);
      stopped = r.status !== 0;
    }
  });
  await runs[0];
  for (const s of chosen.slice(1).flat()) {
    const r = await ended.get(s.name);
    if (!r) continue;
    console.log(`\n=== ${r.name} === (ran alongside ${chosen[0].map((o) => o.name).join(" → ")}; its output:)`);
    process.stdout.write(fs.readFileSync(r.log, "utf8"));
    console.log(`=== ${r.name}: ${r.seconds} s ===`);
    if (r.kind) count(r.name, r.kind);
    if (r.status !== 0) failures.push(r);
  }
  await Promise.all(runs);
  if (failures.length > 0) failed(failures[0].name, failures[0].status);
}

function step(name, cmd, args, env = {}, kind = null) {
  if (!wanted(name)) return;
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, TEST_DATABASE_URL: databaseUrl ?? "", ...env } });
  console.log(`=== ${name}: ${Math.round((Date.now() - started) / 1000)} s ===`);
  if (kind) count(name, kind);
  if (r.status !== 0) failed(name, r.status ?? r.signal);
}

// Every later step but lint imports the built SDK, so `npm test -- unit` builds it too.
const needsSdk = ["typecheck", "unit", "pglite", "postgres", "http", "upgrade", "e2e", "e2e-postgres"].some(wanted);
if (needsSdk && !only.includes("sdk")) only.length && only.push("sdk");
step("sdk", process.env.npm_execpath ? process.execPath : "npm", [
  ...(process.env.npm_execpath ? [process.env.npm_execpath] : []),
  "run",
  "build",
  "-w",
  "@tokendesk/sdk",
]);
// tsc checks the route types Next generates too (tsconfig includes .next/types): `next typegen`
// writes them first (on a clean clone there is no .next yet), the same files the build writes.
if (wanted("typecheck") && only.length && !only.includes("typegen")) only.push("typegen");
step("typegen", process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "typegen"], { NEXT_TELEMETRY_DISABLED: "1" });
step("typecheck", bin("tsc"), ["--noEmit", "-p", "."]);
step("lint", bin("biome"), ["check", "."]);
// The upgrade step's previous release (scripts/previous-release.mjs) is built from git once — on a
// clean clone, 54 of the step's 74 s, a webpack build. It is started in the background at the lowest
// CPU priority (nice 19) once this run's own build is done (below): beside that build it still slowed
// it (clean-clone run at 07658bf: 172 s against 48 s the run before; a warm A/B: 42 s against 23 s
// alone), while the integration lanes leave CPU idle (the postgres step waits on the server) and the
// upgrade step comes some 450 s later. The upgrade step waits for it, then finds it ready. If it
// fails, the upgrade step builds it again itself and reports why.
let previousRelease = null;
function startPreviousRelease() {
  if (!(wanted("upgrade") && databaseUrl && process.env.TOKENDESK_TEST_SERIAL !== "1")) return;
  const log = path.join(reports, "previous-release.log");
  const fd = fs.openSync(log, "w");
  const child = spawn("nice", ["-n", "19", process.execPath, path.join(root, "scripts", "previous-release.mjs")], {
    cwd: root,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, TEST_DATABASE_URL: databaseUrl },
    detached: true, // its own process group: a failed run ends it with the next build it started
  });
  fs.closeSync(fd);
  let running = true;
  process.on("exit", () => {
    if (!running) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  });
  previousRelease = new Promise((resolve) => {
    child.on("error", (err) => resolve({ log, status: String(err) }));
    child.on("exit", (code, signal) => {
      running = false;
      resolve({ log, status: code ?? signal });
    });
  });
  console.log("\ntest: building the previous release for the upgrade step in the background (nice 19)");
}
vitest("unit", "unit");
// Step definitions for the integration, build, HTTP and upgrade steps; the order they run in follows.
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
const standaloneDir = path.join(root, "dist", "standalone");
// Read when the step starts: after the standalone step.
const standaloneEnv = () => (fs.existsSync(path.join(standaloneDir, "server.mjs")) ? { TOKENDESK_STANDALONE_DIR: standaloneDir } : {});
const S = {
  pglite: { name: "pglite", cmd: bin("vitest"), args: vitestArgs("pglite", "integration"), env: { TEST_DB: "pglite" }, kind: "vitest" },
  // One worker on any machine (vitest's default is cores − 1): the audit sealer waits on the
  // cluster-wide oldest transaction, which a second worker's transactions would hold back.
  postgres: {
    name: "postgres",
    cmd: bin("vitest"),
    args: [...vitestArgs("postgres", "integration"), "--maxWorkers=1"],
    env: { TEST_DB: "postgres" },
    kind: "vitest",
  },
  // When this run type-checked already (tsc over the whole project and the generated route types,
  // above), the build skips its own pass of the same check (next.config.ts: TOKENDESK_SKIP_TYPECHECK):
  // 12.6 of the build's 45 s in CI.
  build: {
    name: "build",
    cmd: process.execPath,
    args: [nextBin, "build"],
    env: { NEXT_TELEMETRY_DISABLED: "1", ...(wanted("typecheck") ? { TOKENDESK_SKIP_TYPECHECK: "1" } : {}) },
  },
  // The container's server, assembled from that one build (scripts/build-standalone.mjs), is what the
  // HTTP suite runs against: `node server.mjs` in dist/standalone, exactly as deploy/Dockerfile starts it.
  standalone: { name: "standalone", cmd: process.execPath, args: [path.join(root, "scripts", "build-standalone.mjs")], env: {} },
  http: () => ({ name: "http", cmd: bin("vitest"), args: vitestArgs("http", "http"), env: { TEST_DB: "postgres", ...standaloneEnv() }, kind: "vitest" }),
  // The previous release (scripts/previous-release.mjs) beside the same standalone server.
  upgrade: () => ({
    name: "upgrade",
    cmd: bin("vitest"),
    args: vitestArgs("upgrade", "upgrade"),
    env: { TEST_DB: "postgres", ...standaloneEnv() },
    kind: "vitest",
    before: waitForPreviousRelease,
  }),
};
const run = (s) => step(s.name, s.cmd, s.args, s.env, s.kind);
async function waitForPreviousRelease() {
  if (!previousRelease) return null;
  const waited = Date.now();
  const r = await previousRelease;
  const lines = fs.readFileSync(r.log, "utf8").trim().split("\n");
  return (
    `test: the previous release, prepared in the background: ${r.status === 0 ? lines.at(-1) : `FAILED (exit ${r.status}; the upgrade step tries again)`}; ` +
    `waited ${Math.round((Date.now() - waited) / 1000)} s for it` +
    (r.status === 0 ? "" : `\n${lines.slice(-30).join("\n")}`)
  );
}
// The upgrade step needs PostgreSQL: without one (no TEST_DATABASE_URL and no binaries to start
// one) it cannot run.
const upgradeRuns = Boolean(databaseUrl);
if (!upgradeRuns && wanted("upgrade")) console.log("\n=== upgrade === not run: no PostgreSQL (TEST_DATABASE_URL) for it");
if (process.env.TOKENDESK_TEST_SERIAL === "1") {
  // One step after another, integration first (it fails fastest), then what needs the build.
  run(S.pglite);
  run(S.postgres);
  run(S.build);
  run(S.standalone);
  run(S.http());
  if (upgradeRuns && wanted("upgrade")) {
    const note = await waitForPreviousRelease();
    if (note) console.log(`\n${note}`);
    run(S.upgrade());
  }
} else {
  // The build and the container's server first, then two lanes side by side: the pglite step (one
  // vitest worker, CPU-bound on PGlite's WASM and the CLI's child processes; it never touches the
  // PostgreSQL cluster) beside the steps that use the cluster, one after another — postgres, http,
  // upgrade never overlap each other: the audit sealer waits on the cluster-wide oldest
  // transaction, which another step's transactions on the same cluster would hold back.
  run(S.build);
  run(S.standalone);
  startPreviousRelease();
  await lanes([[S.postgres, S.http(), ...(upgradeRuns ? [S.upgrade()] : [])], [S.pglite]]);
}
step("e2e", bin("playwright"), ["test", "--reporter=list,json"], { PLAYWRIGHT_JSON_OUTPUT_NAME: path.join(reports, "e2e.json") }, "playwright");
// The console on PostgreSQL too (e2e/start-tokendesk.mjs makes a fresh database on the same
// server): the RBAC walk (every role against every page and console route, on sandbox and
// production data) and the users spec (issuing, revoking, the auditor's forced actions refused).
// The other specs run on the embedded database only: each spec run again costs CI minutes, and the
// HTTP suite already runs every server action on PostgreSQL (tests/http/rbac-actions.test.ts).
const ON_POSTGRES = ["rbac", "users"].map((s) => `e2e/${s}.spec.ts`);
if (wanted("e2e-postgres") && !databaseUrl) {
  // Without a server the step would run on the embedded database and pass on the wrong one.
  console.error('\ntest: step "e2e-postgres" has no PostgreSQL (TEST_DATABASE_URL).');
  process.exit(1);
}
step(
  "e2e-postgres",
  bin("playwright"),
  ["test", ...ON_POSTGRES, "--reporter=list,json"],
  { E2E_POSTGRES_URL: databaseUrl ?? "", PLAYWRIGHT_JSON_OUTPUT_NAME: path.join(reports, "e2e-postgres.json") },
  "playwright",
);
console.log("\ntest: every step passed.");
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ""}`);
