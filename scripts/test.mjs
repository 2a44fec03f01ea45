#!/usr/bin/env node
/**
 * `npm test`: the whole suite, in the order that fails fastest.
 *   1. unit tests                                (vitest, no database)
 *   2. integration tests on embedded PGlite      (vitest, in-process domain core)
 *   3. integration tests on real PostgreSQL      (same files, TEST_DB=postgres)
 *   4. a production build, then HTTP tests       (vitest against `next start` on PostgreSQL)
 *   5. Playwright in Chromium                    (the console, as each role; embedded database)
 * PostgreSQL: TEST_DATABASE_URL if set (CI sets it), otherwise a throwaway cluster is started here
 * from the binaries on the machine and removed afterwards.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { startThrowawayPostgres } from "./pg-throwaway.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const only = process.argv.slice(2); // e.g. `npm test -- unit http`
const wanted = (step) => only.length === 0 || only.includes(step);

let pg = null;
let databaseUrl = process.env.TEST_DATABASE_URL;
if (!databaseUrl && (wanted("postgres") || wanted("http"))) {
  pg = await startThrowawayPostgres();
  databaseUrl = pg.url;
  console.log(`test: started a throwaway PostgreSQL at ${databaseUrl}`);
}
const cleanup = () => pg?.stop();
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

function step(name, cmd, args, env = {}) {
  if (!wanted(name)) return;
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, TEST_DATABASE_URL: databaseUrl ?? "", ...env } });
  if (r.status !== 0) {
    console.error(`\ntest: step "${name}" failed (exit ${r.status ?? r.signal}).`);
    process.exit(r.status || 1);
  }
}

step("unit", bin("vitest"), ["run", "--project", "unit"]);
step("pglite", bin("vitest"), ["run", "--project", "integration"], { TEST_DB: "pglite" });
step("postgres", bin("vitest"), ["run", "--project", "integration"], { TEST_DB: "postgres" });
step("build", process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], { NEXT_TELEMETRY_DISABLED: "1" });
step("http", bin("vitest"), ["run", "--project", "http"], { TEST_DB: "postgres" });
step("e2e", bin("playwright"), ["test"]);
console.log("\ntest: every step passed.");
