/**
 * A fresh, migrated database for one test file: in-memory PGlite (TEST_DB=pglite, the default) or
 * a new database created on the PostgreSQL server of TEST_DATABASE_URL (TEST_DB=postgres).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { inject } from "vitest";
import { type DatabaseHandle, migrateDatabase, openDatabase, queryRows } from "@/db/client";

export type TestBackend = "pglite" | "postgres";

export function testBackend(): TestBackend {
  return process.env.TEST_DB === "postgres" ? "postgres" : "pglite";
}

/** Refuses anything but a server on this machine: tests create and drop databases. */
export function assertLocalDatabase(url: string): void {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    throw new Error(`Refusing to run tests against a non-local database (${host}).`);
  }
}

/** Creates an empty database on the test server and returns its URL. */
export async function createPostgresDatabase(prefix = "td_test"): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error("TEST_DB=postgres needs TEST_DATABASE_URL (npm test starts a throwaway cluster for you).");
  assertLocalDatabase(admin);
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  await sql.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      await s.unsafe(`drop database if exists ${name} with (force)`);
      await s.end();
    },
  };
}

export interface TestDatabase extends DatabaseHandle {
  backend: TestBackend;
  url: string | null;
}

/**
 * Starting PGlite (WASM + initdb) costs seconds; emptying its tables costs milliseconds. So a
 * released in-memory database goes back to a per-worker pool and the next test gets it truncated,
 * which keeps "a fresh database per test" cheap. Only released ones are reused, so a file may hold
 * several at once.
 */
const idlePglite: DatabaseHandle[] = [];

async function emptied(handle: DatabaseHandle): Promise<DatabaseHandle> {
  const tables = await queryRows<{ name: string }>(handle.db, sql`select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`);
  if (tables.length) await handle.db.execute(sql.raw(`truncate ${tables.map((t) => t.name).join(", ")} restart identity cascade`));
  return handle;
}

export async function createTestDatabase(opts: { maxConnections?: number } = {}): Promise<TestDatabase> {
  if (testBackend() === "pglite") {
    let handle = idlePglite.pop();
    if (handle) {
      await emptied(handle);
    } else {
      // From the migrated snapshot tests/helpers/pglite-global-setup.ts dumped once per run (the
      // migrations then find nothing to do); races.test.ts and cli.test.ts still migrate from empty.
      const snapshot = inject("pgliteSnapshot");
      const loadDataDir = snapshot ? new Blob([fs.readFileSync(snapshot)]) : undefined;
      handle = await openDatabase({ databaseUrl: null, dataDir: null, loadDataDir });
      await migrateDatabase(handle);
    }
    const pooled = handle;
    let released = false;
    return {
      ...pooled,
      backend: "pglite",
      url: null,
      close: async () => {
        if (released) return;
        released = true;
        idlePglite.push(pooled);
      },
    };
  }
  const created = await createPostgresDatabase();
  const handle = await openDatabase({ databaseUrl: created.url, maxConnections: opts.maxConnections ?? 20 });
  await migrateDatabase(handle);
  return {
    ...handle,
    backend: "postgres",
    url: created.url,
    close: async () => {
      await handle.close();
      await created.drop();
    },
  };
}

/**
 * Resolves once `n` sessions of this database are waiting for a lock another transaction holds —
 * the moment a race test may let the holder go, knowing the other side is really queued behind it
 * (no sleep that hopes it got there). PGlite runs one transaction at a time, so there the waiting
 * call has not started yet and simply runs after the holder: nothing to wait for.
 */
export async function untilWaitingForLock(t: TestDatabase, n = 1): Promise<void> {
  if (t.backend !== "postgres") return;
  for (;;) {
    const [row] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (Number(row!.n) >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Runs `fn` with the database `open` gives, closed again before a CLI child process opens it next
 * (the embedded database has one owner at a time). `migrate` first when no command has created the
 * schema yet.
 */
export async function withDatabase<T>(
  open: () => Promise<DatabaseHandle>,
  fn: (h: DatabaseHandle) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const h = await open();
  try {
    if (opts.migrate) await migrateDatabase(h);
    return await fn(h);
  } finally {
    await h.close();
  }
}
