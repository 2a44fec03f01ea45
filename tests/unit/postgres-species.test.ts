/**
 * The installed postgres.js carries scripts/patch-postgres-species.mjs's change (npm install's
 * postinstall): Result's and Query's species are data properties, not static getters (a getter keeps
 * V8 from ever optimizing their constructors), with the same values, so results still map to plain
 * Arrays. And the patch is idempotent.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..", "..");
const pkg = path.join(root, "node_modules", "postgres");

describe("postgres.js species (scripts/patch-postgres-species.mjs)", () => {
  it("Result and Query have their species as data properties, with the same values", async () => {
    for (const dir of ["src", "cjs/src"]) {
      const result = await import(pathToFileURL(path.join(pkg, dir, "result.js")).href);
      const query = await import(pathToFileURL(path.join(pkg, dir, "query.js")).href);
      const Result = (result.default?.default ?? result.default) as ArrayConstructor;
      const Query = (query.Query ?? query.default?.Query) as PromiseConstructor;
      expect(Object.getOwnPropertyDescriptor(Result, Symbol.species)).toEqual({ value: Array, writable: false, enumerable: false, configurable: true });
      expect(Object.getOwnPropertyDescriptor(Query, Symbol.species)).toEqual({ value: Promise, writable: false, enumerable: false, configurable: true });
      const r = new Result();
      r.push(1, 2);
      expect(r.map((x) => x * 2).constructor).toBe(Array);
      expect(r.filter(() => true).constructor).toBe(Array);
    }
  });

  it("running the patch again changes nothing", () => {
    const files = ["src/result.js", "src/query.js", "cjs/src/result.js", "cjs/src/query.js"].map((f) => path.join(pkg, f));
    const before = files.map((f) => fs.readFileSync(f, "utf8"));
    execFileSync(process.execPath, [path.join(root, "scripts", "patch-postgres-species.mjs")]);
    expect(files.map((f) => fs.readFileSync(f, "utf8"))).toEqual(before);
  });
});
