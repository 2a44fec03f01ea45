#!/usr/bin/env node
/**
 * Assembles the self-contained server the container runs (deploy/Dockerfile) and CI tests:
 * `dist/standalone/`, from a `next build` made with `output: "standalone"`.
 *
 *   dist/standalone/
 *     server.mjs          server.ts (the front, lib/, server/) bundled by esbuild; `node server.mjs`
 *     tokendesk.mjs       the CLI, bundled the same way (`node tokendesk.mjs migrate`)
 *     next.config.js      so Next's handler loads the same configuration
 *     .next/              Next's standalone server files + static assets
 *     node_modules/       what Next's file tracing found, plus the packages kept external below
 *     db/migrations/      applied at start and by `tokendesk migrate`
 *
 * Native and WASM packages (PGlite, argon2, postgres.js) and Next itself stay external: they are
 * loaded from node_modules exactly as `next build` traced them.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCli, bundleServer, EXTERNAL } from "./bundle.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const distDir = process.env.NEXT_DIST_DIR || ".next";
const out = path.resolve(root, process.argv[2] ?? path.join("dist", "standalone"));
const standalone = path.join(root, distDir, "standalone");
if (!fs.existsSync(path.join(standalone, distDir, "BUILD_ID"))) {
  console.error(`No standalone build in ${standalone}: run \`next build\` first (next.config.js has output: "standalone").`);
  process.exit(1);
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
fs.cpSync(standalone, out, { recursive: true, verbatimSymlinks: true });
fs.rmSync(path.join(out, "server.js"), { force: true }); // Next's own server: ours is server.mjs
fs.cpSync(path.join(root, distDir, "static"), path.join(out, distDir, "static"), { recursive: true });
if (fs.existsSync(path.join(root, "public"))) fs.cpSync(path.join(root, "public"), path.join(out, "public"), { recursive: true });
fs.copyFileSync(path.join(root, "next.config.js"), path.join(out, "next.config.js"));
fs.cpSync(path.join(root, "db", "migrations"), path.join(out, "db", "migrations"), { recursive: true });

// Packages the bundles leave external must be present even if tracing did not reach them.
for (const name of [...EXTERNAL.filter((n) => n !== "pino-pretty"), "@node-rs/argon2-linux-x64-gnu", "@node-rs/argon2-linux-x64-musl"]) {
  const from = path.join(root, "node_modules", name);
  const to = path.join(out, "node_modules", name);
  if (fs.existsSync(from) && !fs.existsSync(path.join(to, "package.json"))) fs.cpSync(from, to, { recursive: true, dereference: true });
}

// Files the server reads by path at run time, which Next's tracing cannot see: Redoc's bundle for
// /docs/api (server/routes/docs.ts).
for (const file of [path.join("node_modules", "redoc", "bundles", "redoc.standalone.js")]) {
  fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
  fs.copyFileSync(path.join(root, file), path.join(out, file));
}

await bundleServer(path.join(out, "server.mjs"));
await bundleCli(path.join(out, "tokendesk.mjs"));
fs.writeFileSync(
  path.join(out, "package.json"),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: "module", bin: { tokendesk: "tokendesk.mjs" } }, null, 2)}\n`,
);
const size = execFileSync("du", ["-sh", out], { encoding: "utf8" }).split("\t")[0];
console.log(`standalone: ${path.relative(root, out)} (${size}) — start it with \`node server.mjs\` in that directory.`);
