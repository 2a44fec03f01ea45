import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { BackupError, backupEmbedded, restoreEmbedded } from "@/db/backup";
import { appliedSchemaVersion } from "@/db/client";
import { config } from "@/lib/config/env";
import { CliError, say, sayJson, withDatabase } from "../context";

const POSTGRES =
  "With DATABASE_URL, back up PostgreSQL itself: pg_dump -Fc / pg_restore, or continuous archiving for point-in-time recovery (README, Backups).";

function asCliError(err: unknown): never {
  if (err instanceof BackupError) throw new CliError(err.message, 1);
  throw err;
}

export function register(program: Command): void {
  program
    .command("backup")
    .description("write a consistent backup of the embedded database to FILE (stop the server first: it holds the data directory)")
    .requiredOption("--out <file>", "where to write it (created 0600)")
    .option("--json", "print {file, bytes, schemaVersion, createdAt} as JSON")
    .action(async (opts: { out: string; json?: boolean }) => {
      if (process.env.DATABASE_URL) throw new CliError(POSTGRES, 2);
      const out = path.resolve(opts.out);
      const header = await withDatabase((ctx) => backupEmbedded({ db: ctx.db, kind: ctx.kind, close: async () => {} }, ctx.config.secret, out)).catch(
        asCliError,
      );
      if (opts.json) return sayJson({ file: out, bytes: header.bytes, schemaVersion: header.schemaVersion, createdAt: header.createdAt });
      say(`Backed up the embedded database (schema ${header.schemaVersion}, ${header.bytes} bytes) to ${out}.`);
      say("Keep TOKENDESK_SECRET (the data directory's `secret` file) with it, apart from it: a backup is useless without it.");
    });

  program
    .command("restore")
    .description("restore a backup into an empty data directory (TOKENDESK_DATA_DIR), with the secret it was made with")
    .requiredOption("--from <file>", "a file written by `tokendesk backup`")
    .option("--secret-file <file>", "the backed-up deployment's secret, copied into the data directory (or set TOKENDESK_SECRET)")
    .option("--json", "print {dataDir, schemaVersion, backupSchemaVersion} as JSON")
    .action(async (opts: { from: string; secretFile?: string; json?: boolean }) => {
      if (process.env.DATABASE_URL) throw new CliError(POSTGRES, 2);
      if (!fs.existsSync(opts.from)) throw new CliError(`${opts.from} does not exist.`, 2);
      // Place the secret before the configuration is read: it would otherwise generate a new one.
      const dataDir = path.resolve(process.env.TOKENDESK_DATA_DIR || ".tokendesk");
      if (opts.secretFile) {
        const secret = fs.readFileSync(opts.secretFile, "utf8").trim();
        const target = path.join(dataDir, "secret");
        fs.mkdirSync(dataDir, { recursive: true });
        if (fs.existsSync(target) && fs.readFileSync(target, "utf8").trim() !== secret) {
          throw new CliError(`${target} already holds a different secret; restore into an empty data directory.`, 1);
        }
        fs.writeFileSync(target, `${secret}\n`, { mode: 0o600 });
      } else if (!process.env.TOKENDESK_SECRET && !fs.existsSync(path.join(dataDir, "secret"))) {
        throw new CliError("Give the backed-up deployment's secret: --secret-file <file> or TOKENDESK_SECRET.", 2);
      }
      const cfg = config();
      const header = await restoreEmbedded(path.resolve(opts.from), cfg.dataDir, cfg.secret).catch(asCliError);
      // Opening migrates a backup taken before this release's migrations.
      const schemaVersion = await withDatabase((ctx) => appliedSchemaVersion(ctx.db));
      if (opts.json) return sayJson({ dataDir: cfg.dataDir, schemaVersion, backupSchemaVersion: header.schemaVersion });
      say(`Restored the backup of ${header.createdAt} into ${cfg.dataDir} (schema ${header.schemaVersion} → ${schemaVersion}).`);
      say("Check it with `tokendesk audit verify`, then start the server.");
    });
}
