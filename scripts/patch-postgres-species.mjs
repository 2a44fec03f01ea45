#!/usr/bin/env node
/**
 * `postinstall`: postgres.js 3.4.x declares `static get [Symbol.species]()` on its `Result extends
 * Array` (every query's result) and `Query extends Promise` (every query). On Node 20's V8 a class
 * with that static accessor can never have its constructor optimized: TurboFan's compile of
 * `new Result()` / `new Query()` (and of postgres.js's `unsafe` and `ReadyForQuery`, which inline
 * them) is aborted with "Bailed out due to dependency change" (StableMapDependency), and V8 retries
 * it for ever. Measured on the lean server (bench/tmp tooling, notes/jit.md): 14 aborted compiles per
 * 1,000 token exchanges, 3–4 per 1,000 refreshes or mints, still 14 after 14,000 exchanges, i.e.
 * 0.06–0.1 ms of compiler-thread CPU per exchange, while those four functions stay unoptimized.
 *
 * The same species as a data property defined right after the class has none of it (0 aborts) and
 * the same meaning: `Result[Symbol.species]` is Array, `Query[Symbol.species]` Promise, so
 * `result.map(…)` still makes a plain Array. (Redefining the property at run time, from our code,
 * does not help: the class's map is already the slow one.) So this rewrites the two files in place,
 * in each of the package's builds (src = ESM, cjs/src, cf/src). Idempotent; a postgres.js whose
 * files no longer match is left alone with a warning (then this script can go). Files are replaced
 * by rename, never written in place: checkouts may share node_modules by hard links.
 *
 *   node scripts/patch-postgres-species.mjs [node_modules dir]
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkgDir = path.join(process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, "node_modules"), "postgres");
const MARK = "tokendesk: Symbol.species as a data property (scripts/patch-postgres-species.mjs)";

/** [file, the getter as postgres.js writes it, the class's binding in that file, its species]. */
const TARGETS = [];
for (const [dir, cjs] of [
  ["src", false],
  ["cjs/src", true],
  ["cf/src", false],
]) {
  TARGETS.push([`${dir}/result.js`, "Array", cjs ? "module.exports" : "Result"]);
  TARGETS.push([`${dir}/query.js`, "Promise", "Query"]);
}

let patched = 0;
for (const [rel, species, binding] of TARGETS) {
  const file = path.join(pkgDir, rel);
  if (!fs.existsSync(file)) continue;
  const text = fs.readFileSync(file, "utf8");
  if (text.includes(MARK)) continue;
  const getter = `  static get [Symbol.species]() {\n    return ${species}\n  }\n`;
  if (text.split(getter).length !== 2) {
    console.warn(`patch-postgres-species: ${rel} does not have the expected getter; left as it is.`);
    continue;
  }
  const next = `${text.replace(getter, "")}\n// ${MARK}\nObject.defineProperty(${binding}, Symbol.species, { value: ${species}, configurable: true })\n`;
  const tmp = `${file}.tokendesk-tmp`;
  fs.writeFileSync(tmp, next);
  fs.renameSync(tmp, file);
  patched++;
}
if (patched) console.log(`patch-postgres-species: ${patched} file(s) of ${pkgDir} patched.`);
