/**
 * Global setup of the `integration` project: the `tokendesk` CLI bundled once by esbuild, exactly as
 * the container ships it (scripts/bundle.mjs, used by scripts/build-standalone.mjs), for the tests
 * that run the command as a child process (tests/helpers/cli.ts). Started through bin/tokendesk.mjs
 * instead, each run spends ≈ 3 s of CPU in tsx compiling and loading the modules; the pglite step
 * made some 70 such runs. A few tests still go through bin/tokendesk.mjs, the `npx tokendesk` path.
 */
import fs from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { bundleCli } from "../../scripts/bundle.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** The bundled CLI (`node <this> migrate`), in a directory of this run's own under node_modules/.cache. */
    cliBundle: string;
  }
}

export default async function setup(project: TestProject) {
  // Under node_modules so that node finds the packages the bundle leaves external (PGlite, argon2, ...).
  const cache = path.join(import.meta.dirname, "..", "..", "node_modules", ".cache");
  fs.mkdirSync(cache, { recursive: true });
  const dir = fs.mkdtempSync(path.join(cache, "tokendesk-test-cli-"));
  const outfile = path.join(dir, "tokendesk.mjs");
  await bundleCli(outfile);
  project.provide("cliBundle", outfile);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
