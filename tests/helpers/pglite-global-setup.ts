/**
 * Global setup of the `integration` project on PGlite (TEST_DB=pglite): one in-memory database is
 * migrated here and dumped (PGlite's dumpDataDir) into a file that createTestDatabase
 * (tests/helpers/db.ts) loads instead of running initdb and every migration in each test file:
 * ≈ 2 s of CPU per file instead of ≈ 5 (the pglite step opens some 25 of them). On PostgreSQL each
 * file still gets a database of its own, migrated from empty.
 */
import fs from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { migrateDatabase, openDatabase } from "@/db/client";

declare module "vitest" {
  export interface ProvidedContext {
    /** A dumped, migrated PGlite data directory (tar); "" on PostgreSQL. */
    pgliteSnapshot: string;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.TEST_DB === "postgres") {
    project.provide("pgliteSnapshot", "");
    return;
  }
  const cache = path.join(import.meta.dirname, "..", "..", "node_modules", ".cache");
  fs.mkdirSync(cache, { recursive: true });
  const dir = fs.mkdtempSync(path.join(cache, "tokendesk-test-pglite-"));
  const file = path.join(dir, "migrated.tar");
  const handle = await openDatabase({ databaseUrl: null, dataDir: null });
  try {
    await migrateDatabase(handle);
    const client = (handle.db as unknown as { $client: { dumpDataDir(compression: "none"): Promise<Blob> } }).$client;
    fs.writeFileSync(file, Buffer.from(await (await client.dumpDataDir("none")).arrayBuffer()));
  } finally {
    await handle.close();
  }
  project.provide("pgliteSnapshot", file);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
