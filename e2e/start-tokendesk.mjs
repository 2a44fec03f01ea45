#!/usr/bin/env node
// Starts the production server (server.ts) for the end-to-end tests on an empty embedded database, so that the
// demo team is seeded afresh and no earlier run's state (lockouts, staff changes) leaks in.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = process.env.E2E_DATA_DIR;
if (!dataDir || !path.basename(dataDir).startsWith("tokendesk-e2e")) {
  console.error("start-tokendesk: E2E_DATA_DIR must name a tokendesk-e2e* directory (it is deleted first).");
  process.exit(2);
}
fs.rmSync(dataDir, { recursive: true, force: true });
if (!process.env.NEXT_DIST_DIR) delete process.env.NEXT_DIST_DIR;
const distDir = process.env.NEXT_DIST_DIR || ".next";
if (!fs.existsSync(path.join(root, distDir, "BUILD_ID"))) {
  console.error(`start-tokendesk: no production build in ${distDir}; run \`npm test\` (it builds) or \`npx next build\`.`);
  process.exit(2);
}
const server = spawn(process.execPath, ["--import", "tsx", path.join(root, "server.ts")], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PORT: process.env.E2E_PORT ?? "3210", HOST: "127.0.0.1" },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.kill(sig));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
