import type { Command } from "commander";
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from "@/lib/api-keys";
import { say, sayJson, withDatabase } from "../context";

export function register(program: Command): void {
  const keys = program.command("api-keys").description("manage Team API keys (sk_<region>_… sandbox, pk_<region>_… production)");

  keys
    .command("create")
    .description("create a Team API key; the key is printed once and only its hash is stored")
    .requiredOption("--name <name>", 'what staff see in lists, e.g. "iOS app backend"')
    .requiredOption("--environment <environment>", "sandbox or production")
    .requiredOption("--region <region>", "us or eu (or a region added with TOKENDESK_REGIONS)")
    .option("--scopes <scopes>", "all, or a comma list: users:read,users:write,sign_in_tokens:write,...", "all")
    .option("--json", "print {id, key, prefix} as JSON")
    .action(async (opts: { name: string; environment: string; region: string; scopes: string; json?: boolean }) => {
      // Parse before opening the database: a typo fails fast without touching it.
      const scopes = parseScopes(opts.scopes);
      await withDatabase(async (ctx) => {
        const { key, apiKey } = await createApiKey(
          ctx.db,
          ctx.actor,
          { name: opts.name, environment: opts.environment as "sandbox", region: opts.region, scopes },
          ctx.meta,
        );
        if (opts.json) {
          sayJson({ id: apiKey.id, key, prefix: apiKey.prefix });
          return;
        }
        say(`Created ${apiKey.environment} key "${apiKey.name}" (${apiKey.id}) for region ${apiKey.region} with ${apiKey.scopes.join(", ")}.`);
        say("The key is shown this once; store it now:");
        say(key);
      });
    });

  keys
    .command("list")
    .description("list Team API keys (prefixes only)")
    .option("--json", "print a JSON array")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const list = await listApiKeys(ctx.db, ctx.actor);
        if (opts.json) {
          sayJson(list);
          return;
        }
        if (list.length === 0) say("No API keys yet; create one with `tokendesk api-keys create`.");
        for (const k of list) {
          say(`${k.id}  ${k.prefix}…  ${k.environment}/${k.region}  ${k.name}${k.revokedAt ? "  (revoked)" : ""}`);
        }
      });
    });

  keys
    .command("revoke")
    .description("revoke a key at once; exit 1 naming how many app installations would break unless --confirm-breaking says that number")
    .argument("<id>", "the key's id (from `api-keys list`)")
    .requiredOption("--reason <text>", "why; written to the audit log")
    .option("--confirm-breaking <n>", "the number of un-migrated installations you accept to break")
    .option("--json", "print the revoked key as JSON")
    .action(async (id: string, opts: { reason: string; confirmBreaking?: string; json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const confirm = opts.confirmBreaking === undefined ? null : Number(opts.confirmBreaking);
        const key = await revokeApiKey(ctx.db, ctx.actor, id, opts.reason, ctx.meta, { confirmBreakingInstallations: confirm });
        if (opts.json) sayJson(key);
        else say(`Revoked ${key.environment} key "${key.name}" (${key.prefix}…).`);
      });
    });
}
