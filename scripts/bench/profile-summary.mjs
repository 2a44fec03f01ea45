#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): where the server's CPU went,
 * by self time per function and per package, and the inclusive time of the frames you name.
 *
 *   node scripts/bench/profile-summary.mjs bench/tmp/profiles/CPU.*.cpuprofile [--top 40] [--frame name ...]
 */
import fs from "node:fs";

const args = process.argv.slice(2);
const files = args.filter((a, i) => !a.startsWith("--") && !["--top", "--frame"].includes(args[i - 1]));
const top = Number(args[args.indexOf("--top") + 1]) || 40;
const frames = args.flatMap((a, i) => (args[i - 1] === "--frame" ? [a] : []));

function packageOf(url) {
  if (!url) return "(native/vm)";
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  if (/\.next[^/]*\/server\/chunks/.test(url)) return "(app chunks)";
  return url
    .replace(/^file:\/\//, "")
    .split("/")
    .slice(-2)
    .join("/");
}

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let total = 0;
  const selfFn = new Map();
  const selfPkg = new Map();
  const incl = new Map(frames.map((f) => [f, 0]));
  for (const n of prof.nodes) {
    const t = (dt.get(n.id) ?? 0) / 1000;
    if (!t) continue;
    total += t;
    const cf = n.callFrame;
    const label = `${cf.functionName || "(anonymous)"} ${packageOf(cf.url)}:${cf.lineNumber + 1}`;
    selfFn.set(label, (selfFn.get(label) ?? 0) + t);
    const pkg = ["(idle)", "(program)", "(garbage collector)"].includes(cf.functionName) ? cf.functionName : packageOf(cf.url);
    selfPkg.set(pkg, (selfPkg.get(pkg) ?? 0) + t);
    if (frames.length) {
      const seen = new Set();
      for (let id = n.id; id !== undefined; id = parent.get(id)) {
        const fn = byId.get(id).callFrame.functionName;
        for (const f of frames)
          if (fn === f && !seen.has(f)) {
            seen.add(f);
            incl.set(f, incl.get(f) + t);
          }
      }
    }
  }
  const busy = total - (selfPkg.get("(idle)") ?? 0);
  const pct = (t) => `${((t / busy) * 100).toFixed(1).padStart(5)} %`;
  console.log(`\n${file}: ${(total / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy (percentages of busy time)`);
  console.log("\nself time by package:");
  for (const [k, v] of [...selfPkg]
    .filter(([k]) => k !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25))
    console.log(`  ${pct(v)}  ${k}`);
  console.log(`\nself time, top ${top} functions:`);
  for (const [k, v] of [...selfFn]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(`  ${pct(v)}  ${k}`);
  if (frames.length) {
    console.log("\ninclusive time of named frames:");
    for (const [k, v] of incl) console.log(`  ${pct(v)}  ${k}`);
  }
}
