#!/usr/bin/env node
/**
 * Where a server's CPU went, by component, from a V8 .cpuprofile of one benchmark run (`npm run
 * bench -- --profile`): each sample is charged to the innermost frame of the stack that belongs to a
 * component (rules below, first match wins), so the native work a library asks for (a socket write,
 * a hash) counts as that library's — a `writev` under postgres.js is the database round trip, the
 * same call under node's http module is the answer being written.
 *
 *   node scripts/bench/profile-components.mjs <file.cpuprofile> [--cpu-ms 0.57]
 *
 * --cpu-ms: the run's server CPU per request measured from /proc (the bench prints it); each
 * component's share of the busy samples is then shown as ms of CPU per request. The profiler's own
 * overhead (sampling every 250 µs) is its own line and is left out of the per-request figures.
 */
import fs from "node:fs";

const args = process.argv.slice(2);
const files = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--cpu-ms");
const cpuMs = args.includes("--cpu-ms") ? Number(args[args.indexOf("--cpu-ms") + 1]) : null;

/** [component, test on the frame's url and function name]; first match from the leaf upwards wins. */
const RULES = [
  ["the profiler itself (inspector)", (u) => /^node:inspector/.test(u)],
  ["postgres.js (driver, its socket I/O)", (u) => /node_modules\/postgres\//.test(u)],
  ["drizzle-orm", (u) => /node_modules\/drizzle-orm\//.test(u)],
  ["jose (JWT)", (u) => /node_modules\/jose\//.test(u)],
  ["zod", (u) => /node_modules\/zod\//.test(u)],
  ["pino (logging)", (u) => /node_modules\/(pino|pino-std-serializers|fast-redact|sonic-boom)\//.test(u)],
  ["prom-client (metrics)", (u) => /node_modules\/prom-client\//.test(u)],
  ["uuid", (u) => /node_modules\/uuid\//.test(u)],
  ["next (loaded in-process)", (u) => /node_modules\/next\//.test(u)],
  ["@hono/node-server (Node ↔ web Request/Response)", (u) => /node_modules\/@hono\/node-server\//.test(u)],
  ["hono (router)", (u) => /node_modules\/hono\//.test(u)],
  ["audit (lib/audit)", (u) => /\/lib\/audit\//.test(u)],
  ["webhook outbox (lib/webhooks)", (u) => /\/lib\/webhooks\//.test(u)],
  ["API-key auth (lib/api-keys)", (u) => /\/lib\/api-keys\//.test(u)],
  ["crypto helpers (lib/crypto)", (u) => /\/lib\/crypto\//.test(u)],
  ["oauth domain (lib/oauth)", (u) => /\/lib\/oauth\//.test(u)],
  ["sign-in tokens (lib/sign-in-tokens)", (u) => /\/lib\/sign-in-tokens\//.test(u)],
  ["users domain (lib/users)", (u) => /\/lib\/users\//.test(u)],
  ["other lib/", (u) => /\/lib\//.test(u)],
  ["db/ (client, rows)", (u) => /\/db\//.test(u)],
  ["observe (access log, metrics hooks)", (u) => /\/server\/(observe|tracing)\.ts/.test(u)],
  ["routes (server/routes)", (u) => /\/server\/routes\//.test(u)],
  ["front + adapters (server/)", (u) => /\/server\//.test(u)],
  ["node http (parse, write answer)", (u) => /^node:_http|^node:http/.test(u)],
];

function componentOf(stack) {
  for (const cf of stack) {
    for (const [name, test] of RULES) if (test(cf.url ?? "", cf.functionName)) return name;
  }
  const leaf = stack[0];
  if (["(garbage collector)", "(program)", "(idle)"].includes(leaf.functionName)) return leaf.functionName;
  return "node runtime / event loop (net, timers, microtasks)";
}

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const byComponent = new Map();
  let busy = 0;
  let profiler = 0;
  for (const [id, t] of dt) {
    const stack = [];
    for (let x = id; x !== undefined; x = parent.get(x)) stack.push(byId.get(x).callFrame);
    const c = componentOf(stack);
    if (c === "(idle)" || c.startsWith("the profiler")) {
      if (c !== "(idle)") profiler += t;
      continue;
    }
    busy += t;
    byComponent.set(c, (byComponent.get(c) ?? 0) + t);
  }
  console.log(
    `\n${file}: ${(busy / 1e6).toFixed(2)} s busy (+${(profiler / 1e6).toFixed(2)} s in the profiler)${cpuMs ? `; ${cpuMs} ms CPU per request (from /proc)` : ""}`,
  );
  for (const [c, t] of [...byComponent].sort((a, b) => b[1] - a[1])) {
    const share = t / busy;
    console.log(`  ${(share * 100).toFixed(1).padStart(5)} %${cpuMs ? `  ${(share * cpuMs).toFixed(3).padStart(6)} ms` : ""}  ${c}`);
  }
}
