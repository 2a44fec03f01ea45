import type { Command } from "commander";
import { zodProblems } from "@/lib/errors";
import { dispatchDueDeliveries } from "@/lib/webhooks/dispatcher";
import {
  createEndpointInput,
  createWebhookEndpoint,
  DEFAULT_ROTATION_OVERLAP_SECONDS,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  parseEventTypes,
  rotateWebhookSecret,
  setWebhookEndpointEnabled,
  type WebhookEndpointView,
} from "@/lib/webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES } from "@/lib/webhooks/events";
import { CliError, say, withDatabase } from "../context";

const FLAGS: Record<string, string> = { url: "--url", environment: "--environment", eventTypes: "--events", description: "--description" };

function describeEndpoint(e: WebhookEndpointView): string {
  const state = e.enabled ? "enabled" : e.disabledReason === "failing" ? "DISABLED (failing for a day)" : "disabled";
  return `${e.id}  ${e.environment}  ${state}  ${e.url}  [${e.eventTypes.length === WEBHOOK_EVENT_TYPES.length ? "all events" : e.eventTypes.join(",")}]`;
}

export function register(program: Command): void {
  const cmd = program.command("webhooks").description("manage webhook endpoints (Standard Webhooks): the events tokendesk POSTs, signed, to your backend");

  cmd
    .command("create")
    .description("register an endpoint; its signing secret (whsec_…) is printed once and stored encrypted")
    .requiredOption("--url <url>", "where to POST, e.g. https://api.example.com/tokendesk/webhooks")
    .requiredOption("--environment <environment>", "sandbox or production: the environment whose events it receives")
    .requiredOption("--events <types>", `all, or a comma list of: ${WEBHOOK_EVENT_TYPES.join(", ")}`)
    .option("--description <text>", "what staff see in lists")
    .option("--json", "print {id, secret} as JSON")
    .action(async (opts: { url: string; environment: string; events: string; description?: string; json?: boolean }) => {
      // Validate before opening the database: a typo fails fast (exit 2) without touching it.
      let eventTypes: ReturnType<typeof parseEventTypes>;
      try {
        eventTypes = parseEventTypes(opts.events);
      } catch (err) {
        throw new CliError(`--events: ${(err as Error).message}`, 2);
      }
      const parsed = createEndpointInput.safeParse({ url: opts.url, environment: opts.environment, eventTypes, description: opts.description });
      if (!parsed.success) throw new CliError(zodProblems(parsed.error, createEndpointInput, (field) => FLAGS[field.split(".")[0]!] ?? field)[0]!.message, 2);
      await withDatabase(async (ctx) => {
        const { endpoint, secret } = await createWebhookEndpoint(ctx.db, ctx.actor, parsed.data, ctx.meta);
        if (opts.json) {
          say(JSON.stringify({ id: endpoint.id, secret }));
          return;
        }
        say(`Created ${endpoint.environment} webhook endpoint ${endpoint.id} for ${endpoint.url}.`);
        say("Its signing secret is shown this once; give it to the receiver (standardwebhooks' Webhook(secret)):");
        say(secret);
      });
    });

  cmd
    .command("list")
    .description("list endpoints (never their secrets)")
    .option("--json", "print a JSON array")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const list = await listWebhookEndpoints(ctx.db, ctx.actor);
        if (opts.json) {
          say(JSON.stringify(list));
          return;
        }
        if (list.length === 0) say("No webhook endpoints yet; create one with `tokendesk webhooks create`.");
        for (const e of list) say(describeEndpoint(e));
      });
    });

  for (const [name, enabled] of [
    ["disable", false],
    ["enable", true],
  ] as const) {
    cmd
      .command(`${name} <id>`)
      .description(
        enabled ? "enable an endpoint again (its waiting deliveries resume)" : "stop delivering to an endpoint (deliveries wait until it is enabled)",
      )
      .option("--json", "print the endpoint as JSON")
      .action(async (id: string, opts: { json?: boolean }) => {
        await withDatabase(async (ctx) => {
          const e = await setWebhookEndpointEnabled(ctx.db, ctx.actor, id, enabled, ctx.meta);
          say(opts.json ? JSON.stringify(e) : describeEndpoint(e));
        });
      });
  }

  cmd
    .command("rotate-secret <id>")
    .description("issue a new signing secret, printed once; the old one keeps signing during the overlap")
    .option("--overlap <seconds>", "how long the previous secret still signs (0 ends it now)", String(DEFAULT_ROTATION_OVERLAP_SECONDS))
    .option("--json", "print {id, secret, previous_secret_signs_until} as JSON")
    .action(async (id: string, opts: { overlap: string; json?: boolean }) => {
      if (!/^\d+$/.test(opts.overlap)) throw new CliError("--overlap must be a whole number of seconds.", 2);
      await withDatabase(async (ctx) => {
        const { endpoint, secret } = await rotateWebhookSecret(ctx.db, ctx.actor, id, { overlapSeconds: Number(opts.overlap) }, ctx.meta);
        const until = endpoint.previousSecretExpiresAt?.toISOString() ?? null;
        if (opts.json) {
          say(JSON.stringify({ id: endpoint.id, secret, previous_secret_signs_until: until }));
          return;
        }
        say(`New signing secret for ${endpoint.url}, shown this once:`);
        say(secret);
        say(until ? `The previous secret also signs until ${until}.` : "The previous secret no longer signs.");
      });
    });

  cmd
    .command("delete <id>")
    .description("delete an endpoint and its deliveries (the audit log keeps the record)")
    .action(async (id: string) => {
      await withDatabase(async (ctx) => {
        await deleteWebhookEndpoint(ctx.db, ctx.actor, id, ctx.meta);
        say(`Deleted webhook endpoint ${id}.`);
      });
    });

  cmd
    .command("dispatch")
    .description("deliver what is due now from this process (servers do this in the background)")
    .option("--once", "deliver everything due, then exit (the only mode: a server runs the loop)")
    .option("--json", "print the counts as JSON")
    .action(async (opts: { once?: boolean; json?: boolean }) => {
      if (!opts.once) throw new CliError("Say --once: `tokendesk webhooks dispatch --once` delivers what is due and exits; servers run the loop.", 2);
      await withDatabase(async (ctx) => {
        const r = await dispatchDueDeliveries(ctx.db);
        if (opts.json) {
          say(JSON.stringify(r));
          return;
        }
        say(`Attempted ${r.claimed}: ${r.succeeded} delivered, ${r.retrying} to retry later, ${r.failed} failed.`);
        if (r.disabledEndpoints.length) say(`Disabled after failing for a day: ${r.disabledEndpoints.join(", ")}.`);
      });
    });
}
