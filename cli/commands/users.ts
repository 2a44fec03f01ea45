import { type Command, Option } from "commander";
import { setUserDisabled } from "@/lib/users";
import { searchUsers } from "@/lib/users/search";
import { CliError, say, sayJson, withDatabase } from "../context";

export function register(program: Command): void {
  const users = program.command("users").description("look up and disable or enable end users (the machine API's users)");

  users
    .command("find")
    .description("search by user id, client user id, email or name (as the console's search box); exit 1 when nothing matches")
    .argument("<query>", "an id, or text matched by prefix and (from three characters) anywhere")
    .addOption(new Option("--environment <environment>", "only this environment").choices(["sandbox", "production"]))
    .addOption(new Option("--status <status>", "only active or disabled users").choices(["active", "disabled"]))
    .option("--limit <n>", "at most this many (1..100)", "20")
    .option("--json", "print {users, nextCursor} as JSON")
    .action(async (query: string, opts: { environment?: "sandbox" | "production"; status?: "active" | "disabled"; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError("--limit must be a whole number, 1..100.", 2);
      await withDatabase(async (ctx) => {
        const page = await searchUsers(ctx.db, ctx.actor, { q: query, environment: opts.environment ?? null, status: opts.status ?? null, limit });
        if (opts.json) sayJson(page);
        else
          for (const u of page.users) say(`${u.id}  ${u.environment}/${u.region}  ${u.status.padEnd(8)}  ${u.clientUserId}  ${u.email ?? ""}  ${u.name ?? ""}`);
        if (!page.users.length) {
          if (!opts.json) say("No user matches.");
          process.exitCode = 1;
        }
      });
    });

  for (const [name, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    users
      .command(name)
      .description(
        disabled
          ? "disable a user: every SDK session ends at once, sign-in tokens stop working (audited with the reason)"
          : "enable a disabled user again (old sessions stay ended)",
      )
      .argument("<user-id>", "the user's id")
      .requiredOption("--reason <text>", "why; written to the audit log")
      .option("--json", "print the user as JSON")
      .action(async (id: string, opts: { reason: string; json?: boolean }) => {
        await withDatabase(async (ctx) => {
          const user = await setUserDisabled(ctx.db, ctx.actor, id, disabled, { reason: opts.reason }, ctx.meta);
          if (opts.json) return sayJson(user);
          say(`User ${user.id} (${user.clientUserId}) is ${user.status}.`);
        });
      });
  }
}
