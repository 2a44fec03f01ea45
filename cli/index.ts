/**
 * The `tokendesk` command line. Each file in cli/commands/ exports `register(program)` and is picked
 * up here by name, so a feature adds its commands by adding one file (no edit to this one).
 *
 * Exit codes: 0 done; 1 the operation failed or found a problem (a refused change, a tampered audit
 * log, nothing found); 2 it could not run at all (bad usage, bad configuration, the database
 * unreachable, the embedded database busy). Every command has --help; those that print data have --json.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Command, CommanderError } from "commander";
import { EmbeddedDatabaseBusyError } from "@/db/client";
import { ConfigError } from "@/lib/config/env";
import { isDomainError } from "@/lib/errors";
import { CliError } from "./context";

export interface CommandModule {
  register(program: Command): void;
}

const commandsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "commands");

function packageVersion(): string {
  if (process.env.TOKENDESK_VERSION) return process.env.TOKENDESK_VERSION;
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

export async function buildProgram(): Promise<Command> {
  const program = new Command("tokendesk")
    .description("tokendesk: token broker and support console for mobile-SDK authentication")
    .version(packageVersion(), "-V, --version", "print the version")
    .showHelpAfterError()
    .exitOverride();
  // The bundled CLI of the container (scripts/build-standalone.mjs) lists its commands instead.
  const bundled = (globalThis as { __tokendeskCommands?: Array<Partial<CommandModule>> }).__tokendeskCommands;
  if (bundled) {
    for (const mod of bundled) mod.register?.(program);
    return program;
  }
  const files = fs
    .readdirSync(commandsDir)
    .filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts") && !f.includes(".test."))
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(commandsDir, file)).href)) as Partial<CommandModule>;
    if (typeof mod.register !== "function") throw new Error(`cli/commands/${file} must export register(program).`);
    mod.register(program);
  }
  return program;
}

/** One line on stderr and an exit code: what a person or a script needs, never a stack trace. */
function exitCodeOf(err: unknown): { code: number; message: string | null } {
  if (err instanceof CommanderError) {
    // Commander has already printed help or the usage error.
    return { code: err.exitCode === 0 ? 0 : 2, message: null };
  }
  if (err instanceof CliError) return { code: err.exitCode, message: err.message };
  if (err instanceof EmbeddedDatabaseBusyError || err instanceof ConfigError) return { code: 2, message: err.message };
  if (isDomainError(err)) return { code: 1, message: err.message };
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND") {
    return { code: 2, message: `Cannot reach the database (${code}); check DATABASE_URL.` };
  }
  return { code: 1, message: `Unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` };
}

export async function main(argv: string[]): Promise<never> {
  let code = 0;
  try {
    const program = await buildProgram();
    await program.parseAsync(argv);
  } catch (err) {
    const result = exitCodeOf(err);
    if (result.message) process.stderr.write(`tokendesk: ${result.message.replace(/\s*\n\s*/g, " ")}\n`);
    code = result.code;
  }
  if (process.exitCode && code === 0) code = Number(process.exitCode);
  process.exit(code);
}
