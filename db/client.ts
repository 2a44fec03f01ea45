/**
 * Opens the database: embedded PGlite (real Postgres in WASM, one process) when no DATABASE_URL is
 * set, PostgreSQL through postgres.js otherwise. Both are driven through the same drizzle API, so the
 * domain core never knows which one it is on.
 */
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { type ExtractTablesWithRelations, type Placeholder, type Query, type SQL, sql } from "drizzle-orm";
import { type PgDatabase, PgDialect, type PgQueryResultHKT, type PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { connectCoalescing } from "./pg-socket";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Transaction = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** What every domain function takes: the database itself or the transaction it is part of. */
export type Executor = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  kind: "pglite" | "postgres";
  close(): Promise<void>;
}

export class EmbeddedDatabaseBusyError extends Error {
  override name = "EmbeddedDatabaseBusyError";
}

export const MIGRATIONS_FOLDER = path.resolve(/*turbopackIgnore: true*/ process.env.TOKENDESK_MIGRATIONS_DIR ?? path.join(process.cwd(), "db", "migrations"));

/** What drizzle keeps on every database and transaction object: its SQL dialect and the driver's client. */
interface DrizzleInternals {
  dialect: { sqlToQuery(query: SQL): Query };
  session: {
    client: unknown;
    prepareQuery(query: Query, fields: undefined, name: undefined, isResponseInArrayMode: false): { execute(): Promise<unknown> };
  };
}

/** The dialect fixed statements are compiled with: drizzle's Postgres dialect as every handle has it (no casing option). */
const dialect = new PgDialect();

/**
 * A statement whose text is compiled once, when the module defining it loads: `build` writes it as
 * an `sql` template whose values are `p.name` placeholders, and each call gives the values by name
 * and gets the text with its parameters, for `queryRows` — without drizzle's template compilation
 * (sqlToQuery) in every request. For the hot path's fixed statements (the text never varies, which
 * is also what `prepare: true` asks for). The same name may appear several times.
 */
export function fixedStatement<N extends string>(build: (p: Record<N, Placeholder<N>>) => SQL): (values: Record<N, unknown>) => Query {
  const compiled = compileStatement(build);
  const { names } = compiled;
  return (values) => {
    const params = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) params[i] = boundValue(values[names[i]!], names[i]!);
    return { sql: compiled.sql, params };
  };
}

/** fixedStatement's compilation: the text, and the name of each of its parameters in order. */
export function compileStatement<N extends string>(build: (p: Record<N, Placeholder<N>>) => SQL): { sql: string; names: N[] } {
  const p = new Proxy({} as Record<N, Placeholder<N>>, { get: (_, name) => sql.placeholder(String(name)) });
  const compiled = dialect.sqlToQuery(build(p));
  return { sql: compiled.sql, names: compiled.params.map((param) => (param as Placeholder<N>).name) };
}

/** A parameter's value; a missing one would be sent as nothing at all (or refused by the driver): say which. */
export function boundValue(value: unknown, name: string): unknown {
  if (value === undefined) throw new Error(`No value for the statement's parameter "${name}" (null for NULL).`);
  return value;
}

/**
 * Rows of a raw `sql` statement, or of a `fixedStatement`'s compiled text and parameters, whichever
 * driver answers.
 *
 * `prepare: true` — for statements whose text never varies (values are bound parameters, nothing
 * inlined) and whose best plan does not depend on the values (lookups by a unique key, inserts,
 * updates by id): the hot path's statements. On PostgreSQL they become named prepared statements of
 * each pooled connection: parsed and planned once, then every execution is one Bind/Execute. Without
 * it (drizzle's `execute` sends an unnamed statement) postgres.js first sends Parse/Describe and waits
 * for the parameter types before Bind/Execute — two round trips for every statement with parameters —
 * and PostgreSQL parses and plans it each time. Never for text that varies (inlined literals, as in
 * user search: each variant would stay prepared on every connection) or for queries that need a plan
 * made for their values. PGlite runs everything as it always does.
 */
export async function queryRows<T>(db: Executor, query: SQL | Query, opts: { prepare?: boolean } = {}): Promise<T[]> {
  const compiled = isCompiled(query) ? query : null;
  if (opts.prepare || compiled) {
    const { dialect, session } = db as unknown as DrizzleInternals;
    const client = session.client as Partial<Pick<postgres.Sql, "unsafe">>;
    // postgres.js (pool or transaction): the statement goes to it directly. Its type parsers are
    // the ones drizzle configured on the client, so rows come back as from `execute`.
    if (typeof client.unsafe === "function") {
      const built = compiled ?? dialect.sqlToQuery(query as SQL);
      return (await client.unsafe(built.sql, built.params as postgres.ParameterOrJSON<never>[], { prepare: opts.prepare ?? false })) as unknown as T[];
    }
    // PGlite: a compiled statement as drizzle's `execute` runs one (its driver's row parsers).
    if (compiled) return rowsOf<T>(await session.prepareQuery(compiled, undefined, undefined, false).execute());
  }
  return rowsOf<T>(await db.execute(query as SQL));
}

const isCompiled = (query: SQL | Query): query is Query => typeof (query as Query).sql === "string";

/** postgres.js answers an array of rows, PGlite a result with `rows`. */
const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite keeps its data directory in one process's memory and writes it back; two processes on the
 * same directory corrupt it. A lock file holding the owner's pid makes the second one refuse.
 */
function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, "pglite.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx" });
      const release = () => {
        process.off("exit", release);
        try {
          if (fs.readFileSync(lockFile, "utf8").trim() === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
      process.once("exit", release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number.parseInt(fs.readFileSync(lockFile, "utf8"), 10);
      if (owner === process.pid) return () => {};
      if (Number.isFinite(owner) && processAlive(owner)) {
        throw new EmbeddedDatabaseBusyError(
          `The embedded database in ${dataDir} is in use by another tokendesk process (pid ${owner}); ` +
            `stop that process first, or point both at PostgreSQL with DATABASE_URL.`,
        );
      }
      fs.unlinkSync(lockFile); // stale lock of a process that died
    }
  }
  throw new EmbeddedDatabaseBusyError(`Could not lock the embedded database in ${dataDir}.`);
}

export interface OpenOptions {
  /** postgres:// URL; null opens PGlite. */
  databaseUrl: string | null;
  /** PGlite data directory; null keeps PGlite in memory (tests). */
  dataDir?: string | null;
  /**
   * In memory only: start from this dumped data directory (PGlite's dumpDataDir) instead of an
   * empty one — the tests' migrated snapshot, ≈ 2 s of CPU instead of ≈ 5 s of initdb and migrations.
   */
  loadDataDir?: Blob;
  /** postgres.js pool size. */
  maxConnections?: number;
}

/**
 * postgres.js's `begin` waits for BEGIN's answer before the transaction's first statement is sent:
 * a round trip of its own in every transaction. This one sends BEGIN and lets the first statement
 * follow it on the same reserved connection without waiting (postgres.js pipelines a connection's
 * queries; both go out in one write), then COMMIT, or ROLLBACK when the callback throws. As in
 * postgres.js's own, a statement that failed fails the transaction with its error even when the
 * callback did not await it (PostgreSQL would answer the COMMIT with a ROLLBACK).
 */
function pipelinedBegin(client: postgres.Sql): postgres.Sql["begin"] {
  const original = client.begin.bind(client);
  const reserve = client.reserve.bind(client);
  return (async (a: unknown, b?: unknown) => {
    // With options (an isolation level...): postgres.js's own begin.
    if (typeof a !== "function") return original(a as string, b as never);
    const fn = a as (sql: postgres.TransactionSql) => unknown;
    const conn = await reserve();
    let failed: { error: unknown } | null = null;
    let committing = false;
    const unsafe = conn.unsafe.bind(conn);
    conn.unsafe = ((...args: Parameters<typeof conn.unsafe>) => {
      // A statement issued after COMMIT was sent would run outside the transaction, on a connection
      // already handed back: a commitWith caller whose last writes were not all sent yet. Loud, not silent.
      if (committing) throw new Error("A statement was sent after its transaction's COMMIT (commitWith's writes must all be sent when it is called).");
      const q = unsafe(...args);
      // Promise.prototype.then, not the query's own: attaching must not start a lazy query.
      Promise.prototype.then.call(q, undefined, (error: unknown) => {
        failed ??= { error };
      });
      return q;
    }) as typeof conn.unsafe;
    pipelinedConnections.add(conn);
    try {
      conn.unsafe("begin").execute();
      let result: unknown;
      let last: Promise<unknown> | undefined;
      try {
        result = await fn(conn as unknown as postgres.TransactionSql);
        last = lastWrites.get(conn);
        if (last) {
          // Before COMMIT, the microtask queue drained (process.nextTick runs after it): a last write
          // that failed without reaching the server (an async builder that threw, a statement
          // postgres.js refused) has settled by then, and the transaction rolls back — PostgreSQL
          // cannot answer COMMIT with ROLLBACK for a statement it never received. No round trip:
          // nothing is awaited from the server here. Still in the turn the writes were sent in, so
          // the COMMIT leaves in the same socket write as a large last write (db/pg-socket.ts).
          let early: { error: unknown } | null = null;
          last.catch((error: unknown) => {
            early ??= { error };
          });
          await new Promise<void>((resolve) => process.nextTick(resolve));
          if (early) throw (early as { error: unknown }).error;
        }
        if (failed) throw (failed as { error: unknown }).error;
      } catch (err) {
        await unsafe("rollback").catch(() => {});
        throw err;
      }
      committing = true;
      // commitWith: COMMIT goes out behind the last writes, without waiting for their answers. If
      // one fails, PostgreSQL answers the COMMIT with ROLLBACK, and the write's error is thrown.
      const [writes, commit] = await Promise.allSettled([last ?? Promise.resolve(), unsafe("commit") as unknown as Promise<{ command?: string }>]);
      if (failed) throw (failed as { error: unknown }).error;
      if (writes.status === "rejected") throw writes.reason;
      if (commit.status === "rejected") throw commit.reason;
      if (commit.value.command === "ROLLBACK") throw new Error("The transaction was rolled back by PostgreSQL: one of its statements failed.");
      return result;
    } finally {
      lastWrites.delete(conn);
      conn.release();
    }
  }) as postgres.Sql["begin"];
}

/** Connections of transactions begun by pipelinedBegin, and the last writes handed to their commit. */
const pipelinedConnections = new WeakSet<object>();
const lastWrites = new WeakMap<object, Promise<unknown>>();

/**
 * Ends a transaction's callback with its last writes: `return commitWith(tx, Promise.all([...]), value)`.
 * On PostgreSQL COMMIT is sent right behind the writes without waiting for their answers — one
 * round trip fewer for the operation; a write that fails still fails the transaction with its own
 * error (PostgreSQL answers the COMMIT with ROLLBACK), and the caller gets `value` only once the
 * commit has succeeded. A write that fails before reaching the server (an async builder that throws,
 * a statement the driver refuses) fails the transaction too: COMMIT waits until the microtask queue has drained
 * and is not sent if the writes already failed. Every statement of `writes` must be sent before the callback returns (a
 * `queryRows` call or a query builder handed to Promise.all is; one sent after the COMMIT throws,
 * loudly, rather than run outside the transaction). Elsewhere (PGlite, a
 * nested transaction, postgres.js's own begin) the writes are awaited here, as `await` would.
 */
export async function commitWith<T>(tx: Executor, writes: Promise<unknown>, value: T): Promise<T> {
  const client = (tx as unknown as DrizzleInternals).session.client as object;
  const outermost = (tx as unknown as { nestedIndex?: number }).nestedIndex === 0;
  if (outermost && pipelinedConnections.has(client) && !lastWrites.has(client)) {
    writes.catch(() => {}); // settled by pipelinedBegin, with the COMMIT
    lastWrites.set(client, writes);
    return value;
  }
  await writes;
  return value;
}

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  if (opts.databaseUrl) {
    const client = postgres(opts.databaseUrl, {
      max: opts.maxConnections ?? 10,
      onnotice: () => {},
      connection: { application_name: "tokendesk" },
    });
    client.begin = pipelinedBegin(client);
    // One TCP host (not a unix socket, not a list of hosts to fail over between): our sockets, whose
    // large writes wait for the COMMIT behind them (db/pg-socket.ts). Set on the parsed options, which
    // postgres.js reads when a connection opens; with several hosts or a socket path its own connect
    // logic stays.
    const options = client.options as unknown as { host: string[]; path?: string | false; socket?: unknown };
    if (!options.path && options.host.length === 1) options.socket = connectCoalescing;
    const db = drizzlePostgres(client, { schema }) as unknown as Database;
    return { db, kind: "postgres", close: () => client.end({ timeout: 5 }) };
  }
  const release = opts.dataDir ? lockDataDir(opts.dataDir) : () => {};
  try {
    const client = await PGlite.create({
      dataDir: opts.dataDir ? path.join(opts.dataDir, "pgdata") : undefined,
      ...(opts.loadDataDir && !opts.dataDir ? { loadDataDir: opts.loadDataDir } : {}),
      extensions: { pg_trgm },
    });
    const db = drizzlePglite(client, { schema }) as unknown as Database;
    return {
      db,
      kind: "pglite",
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

/** Migration lock id: an arbitrary constant shared by every tokendesk instance. */
const MIGRATION_LOCK = 7_404_117_001;

/** Per embedded database, the migration running or last run: callers of one handle take turns. */
const pgliteMigrations = new WeakMap<object, Promise<void>>();

/**
 * Applies pending migrations. On PostgreSQL a session advisory lock makes a second instance wait
 * until the first has finished, instead of both running the same DDL.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  if (handle.kind === "pglite") {
    // One process holds an embedded database, so an in-process queue is its lock (without it, two
    // callers both find a migration unapplied and the second fails on CREATE TABLE).
    const mine = (pgliteMigrations.get(handle.db) ?? Promise.resolve())
      .catch(() => {})
      .then(() => migratePglite(handle.db as never, { migrationsFolder: MIGRATIONS_FOLDER }));
    pgliteMigrations.set(handle.db, mine);
    await mine;
    return;
  }
  const client = (handle.db as unknown as { $client: postgres.Sql }).$client;
  const conn = await client.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      await migratePostgres(handle.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    conn.release();
  }
}

export function expectedSchemaVersion(): number {
  const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8")) as {
    entries: unknown[];
  };
  return journal.entries.length;
}

export async function appliedSchemaVersion(db: Executor): Promise<number> {
  const rows = await queryRows<{ n: number | string }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Runs `fn` while holding the session advisory lock `key`, or returns `{ acquired: false }` at once
 * when another process holds it. For background work longer than one transaction (the janitor
 * deletes in batches, each its own transaction): the lock lives on a reserved connection while
 * `fn` uses the pool as usual. PGlite is one connection in one process, so the lock is taken on it.
 */
export async function withTryAdvisoryLock<T>(db: Database, key: number, fn: () => Promise<T>): Promise<{ acquired: true; value: T } | { acquired: false }> {
  const client = (db as unknown as { $client: unknown }).$client;
  if (typeof (client as { reserve?: unknown }).reserve === "function") {
    const conn = await (client as postgres.Sql).reserve();
    try {
      const [row] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(${key}) as ok`;
      if (!row?.ok) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        await conn`select pg_advisory_unlock(${key})`;
      }
    } finally {
      conn.release();
    }
  }
  const [row] = await queryRows<{ ok: boolean }>(db, sql`select pg_try_advisory_lock(${key}) as ok`);
  if (!row?.ok) return { acquired: false };
  try {
    return { acquired: true, value: await fn() };
  } finally {
    await db.execute(sql`select pg_advisory_unlock(${key})`);
  }
}
