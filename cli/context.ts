/**
 * What every command shares: the database opened from the same configuration as the server, the
 * CLI's actor, and errors that carry an exit code.
 */

import { type Database, type DatabaseHandle, migrateDatabase, openDatabase } from "@/db/client";
import { type Config, config } from "@/lib/config/env";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";

export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface CliContext {
  db: Database;
  kind: DatabaseHandle["kind"];
  config: Config;
  /** Every change the CLI makes is audited as the system actor "cli". */
  actor: Actor;
  meta: RequestMeta;
}

/** The CLI's audit metadata: no request, but the operator's login name as "user agent". */
function cliMeta(): RequestMeta {
  const user = process.env.SUDO_USER || process.env.USER || process.env.LOGNAME || null;
  return { requestId: null, ip: null, userAgent: `tokendesk-cli${user ? ` (${user})` : ""}` };
}

/**
 * Opens and migrates the database, runs `fn`, and closes it again even when `fn` throws. In
 * embedded mode, openDatabase refuses while a server holds the data directory (EmbeddedDatabaseBusyError).
 */
export async function withDatabase<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const cfg = config();
  const handle = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, maxConnections: 4 });
  try {
    await migrateDatabase(handle);
    return await fn({ db: handle.db, kind: handle.kind, config: cfg, actor: systemActor("cli"), meta: cliMeta() });
  } finally {
    await handle.close();
  }
}

export function describeDatabase(ctx: Pick<CliContext, "kind" | "config">): string {
  return ctx.kind === "pglite" ? `embedded PGlite in ${ctx.config.dataDir}` : "PostgreSQL (DATABASE_URL)";
}

/** Plain output on stdout, one line at a time (scripts parse it). */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `--json` output: one JSON document on stdout. */
export function sayJson(value: unknown): void {
  say(JSON.stringify(value));
}
