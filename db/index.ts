/**
 * The process-wide database of the running server or CLI: opened and migrated once, cached on
 * globalThis so that a dev-server reload does not open the embedded database a second time.
 */
import { config } from "@/lib/config/env";
import { type Database, type DatabaseHandle, migrateDatabase, openDatabase } from "./client";

const globalForDb = globalThis as unknown as { __tokendeskDb?: Promise<DatabaseHandle> };

export function databaseHandle(): Promise<DatabaseHandle> {
  if (process.env.NEXT_PHASE === "phase-production-build") {
    // Pages are dynamic; nothing may open PGlite's data directory while `next build` runs.
    throw new Error("The database is not available while building.");
  }
  globalForDb.__tokendeskDb ??= (async () => {
    const cfg = config();
    const handle = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, maxConnections: cfg.poolMax });
    await migrateDatabase(handle);
    return handle;
  })().catch((err) => {
    globalForDb.__tokendeskDb = undefined;
    throw err;
  });
  return globalForDb.__tokendeskDb;
}

export async function getDb(): Promise<Database> {
  return (await databaseHandle()).db;
}

export type { Database, Executor, Transaction } from "./client";
