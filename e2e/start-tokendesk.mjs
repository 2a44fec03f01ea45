#!/usr/bin/env node
// Starts the production server (server.ts) for the end-to-end tests on an empty embedded database, so that the
// demo team is seeded afresh and no earlier run's state (lockouts, staff changes) leaks in.
// With E2E_POSTGRES_URL (a PostgreSQL server on this machine, as `npm test` starts one), it runs on
// a fresh database there instead: created here, migrated and seeded with the same demo team
// (e2e/seed-postgres.ts), dropped when the server stops.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SERVER_NODE_FLAGS } from "../scripts/server-node-flags.mjs";

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
let dropDatabase = async () => {};
const postgresUrl = process.env.E2E_POSTGRES_URL;
if (postgresUrl) {
  const { default: postgres } = await import("postgres");
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(new URL(postgresUrl).hostname)) {
    console.error("start-tokendesk: E2E_POSTGRES_URL must be a server on this machine (its database is dropped).");
    process.exit(2);
  }
  const name = `tokendesk_e2e_${process.env.E2E_PORT ?? "3210"}`;
  const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  dropDatabase = async () => {
    const again = postgres(postgresUrl, { max: 1, onnotice: () => {} });
    await again.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await again.end();
  };
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
  // Every instance of one deployment shares the secret; the seed and the server are two here.
  process.env.TOKENDESK_SECRET ||= "tokendesk-e2e-postgres-secret-0123456789-abcdefghijklmnop";
  const seeded = spawnSync(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), path.join(root, "e2e", "seed-postgres.ts")], {
    cwd: root,
    stdio: "inherit",
    env: process.env,
  });
  if (seeded.status !== 0) {
    await dropDatabase();
    process.exit(seeded.status ?? 1);
  }
}

const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, "--import", "tsx", path.join(root, "server.ts")], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, PORT: process.env.E2E_PORT ?? "3210", HOST: "127.0.0.1" },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.kill(sig));
server.on("exit", async (code, signal) => {
  await dropDatabase();
  process.exit(code ?? (signal ? 0 : 1));
});
