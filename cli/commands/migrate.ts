import type { Command } from "commander";
import { appliedSchemaVersion } from "@/db/client";
import { describeDatabase, say, withDatabase } from "../context";

export function register(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations (under an advisory lock on PostgreSQL)")
    .action(async () => {
      await withDatabase(async (ctx) => {
        say(`Database is migrated: schema version ${await appliedSchemaVersion(ctx.db)} (${describeDatabase(ctx)}).`);
      });
    });
}
