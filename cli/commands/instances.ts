import type { Command } from "commander";
import { createInstance, createInstanceInput, listInstances, rotateInstanceKey } from "@/lib/devices";
import { zodProblems } from "@/lib/errors";
import { CliError, say, sayJson, withDatabase } from "../context";

const FLAGS: Record<string, string> = {
  name: "--name",
  environment: "--environment",
  jwtTtlSeconds: "--jwt-ttl",
  refreshTtlSeconds: "--refresh-ttl",
  refreshGraceSeconds: "--refresh-grace",
};

export function register(program: Command): void {
  const cmd = program.command("instances").description("manage telematics instances (InstanceId + InstanceKey for device registration)");

  cmd
    .command("create")
    .description("create an instance; the InstanceKey is printed once and only its hash is stored")
    .requiredOption("--name <name>", 'what staff see in lists, e.g. "Fleet app"')
    .requiredOption("--environment <environment>", "sandbox or production")
    .option("--jwt-ttl <seconds>", "device JWT lifetime (ExpiresIn)", "86400")
    .option("--refresh-ttl <seconds>", "refresh token lifetime", String(90 * 86_400))
    .option("--refresh-grace <seconds>", "how long a used refresh token is still accepted as a retry (0-300)", "10")
    .option("--json", "print {instanceId, instanceKey} as JSON")
    .action(async (opts: { name: string; environment: string; jwtTtl: string; refreshTtl: string; refreshGrace: string; json?: boolean }) => {
      // Validate before opening the database: a typo fails fast (exit 2) without touching it.
      const input = {
        name: opts.name,
        environment: opts.environment,
        jwtTtlSeconds: opts.jwtTtl,
        refreshTtlSeconds: opts.refreshTtl,
        refreshGraceSeconds: opts.refreshGrace,
      };
      const parsed = createInstanceInput.safeParse(input);
      if (!parsed.success) throw new CliError(zodProblems(parsed.error, createInstanceInput, (field) => FLAGS[field] ?? field)[0]!.message, 2);
      await withDatabase(async (ctx) => {
        const { instance, instanceKey } = await createInstance(ctx.db, ctx.actor, parsed.data, ctx.meta);
        if (opts.json) {
          say(JSON.stringify({ instanceId: instance.id, instanceKey }));
          return;
        }
        say(`Created ${instance.environment} instance "${instance.name}".`);
        say(`InstanceId:  ${instance.id}`);
        say(`InstanceKey: ${instanceKey}`);
        say("The InstanceKey is shown this once; store it now.");
      });
    });

  cmd
    .command("list")
    .description("list instances")
    .option("--json", "print a JSON array")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const list = await listInstances(ctx.db, ctx.actor);
        if (opts.json) {
          say(JSON.stringify(list));
          return;
        }
        if (list.length === 0) say("No instances yet; create one with `tokendesk instances create`.");
        for (const i of list) say(`${i.id}  ${i.environment}  JWT ${i.jwtTtlSeconds}s  refresh ${i.refreshTtlSeconds}s  ${i.name}`);
      });
    });

  cmd
    .command("rotate-key")
    .description("issue a new InstanceKey (printed once); the old one stops working for registrations and logins, devices keep their tokens")
    .argument("<instance-id>", "the instance's id (InstanceId)")
    .option("--reason <text>", "why; written to the audit log")
    .option("--json", "print {instanceId, instanceKey} as JSON")
    .action(async (id: string, opts: { reason?: string; json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const { instance, instanceKey } = await rotateInstanceKey(ctx.db, ctx.actor, id, { reason: opts.reason }, ctx.meta);
        if (opts.json) return sayJson({ instanceId: instance.id, instanceKey });
        say(`New InstanceKey for "${instance.name}" (${instance.id}):`);
        say(`InstanceKey: ${instanceKey}`);
        say("Shown this once; the previous key no longer works.");
      });
    });
}
