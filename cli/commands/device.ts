/**
 * `tokendesk device ...`: a device simulator for support and QA. It runs the real client SDK
 * (@tokendesk/sdk, packages/sdk) with its state in a file, so each step an app takes — configure an API key, sign in
 * with a sign-in token, call the API, migrate, sign out — can be reproduced one command at a time
 * against any tokendesk deployment. It talks HTTP only and never opens the database.
 */
import path from "node:path";
import { createTokendeskClient, type Environment, isSdkError, type TokendeskClient } from "@tokendesk/sdk";
import { fileStorage } from "@tokendesk/sdk/node";
import type { Command } from "commander";
import { CliError, say } from "../context";

interface DeviceOptions {
  state: string;
  url: string;
  json?: boolean;
}

function client(opts: DeviceOptions): TokendeskClient {
  return createTokendeskClient({ baseUrl: opts.url, storage: fileStorage(path.resolve(opts.state)) });
}

/** SDK errors become one line and exit code 1, with the SDK's code so scripts can branch on it. */
async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isSdkError(err)) throw new CliError(`${err.code}: ${err.message}`, 1);
    throw err;
  }
}

async function printStatus(sdk: TokendeskClient, json: boolean | undefined): Promise<void> {
  const status = [...(await sdk.status())];
  const userId = await sdk.currentUserId();
  const installationId = await sdk.installationId();
  if (json) say(JSON.stringify({ status, userId, installationId }));
  else say(`status: ${status.length ? status.join(", ") : "signed out"}\nuser: ${userId ?? "—"}\ninstallation: ${installationId}`);
}

export function register(program: Command): void {
  const device = program
    .command("device")
    .description("simulate an app installation running the tokendesk SDK (state kept in a file)")
    .option("--state <file>", "where the simulated device keeps its state", ".tokendesk-device.json")
    .option("--url <origin>", "tokendesk's public URL", process.env.TOKENDESK_URL ?? process.env.PUBLIC_URL ?? "http://localhost:3000")
    .option("--json", "machine-readable output");
  const opts = (): DeviceOptions => device.opts<DeviceOptions>();

  device
    .command("status")
    .description("what the SDK reports: configured, signedIn, useApiKey, useSignInToken, pendingReauthentication")
    .action(async () => printStatus(client(opts()), opts().json));

  device
    .command("configure")
    .description("legacy API-key mode: configure the SDK with a Team API key and the user id it acts as")
    .requiredOption("--api-key <key>", "the Team API key the app was built with")
    .requiredOption("--environment <env>", "sandbox or production")
    .requiredOption("--region <region>", "us, eu, ...")
    .requiredOption("--user-id <id>", "the tokendesk user id the installation acts as")
    .action(async (o: { apiKey: string; environment: Environment; region: string; userId: string }) => {
      const sdk = client(opts());
      await run(async () => {
        await sdk.configure({ apiKey: o.apiKey, environment: o.environment, region: o.region });
        await sdk.setUserId(o.userId);
      });
      await printStatus(sdk, opts().json);
    });

  device
    .command("sign-in")
    .argument("<sign-in-token>", "a sign-in token minted for the user")
    .description("sign in once with a sign-in token (in API-key mode this migrates the installation)")
    .action(async (token: string) => {
      const sdk = client(opts());
      const { userId } = await run(() => sdk.signIn(token));
      if (opts().json) say(JSON.stringify({ userId }));
      else say(`Signed in as ${userId}.`);
    });

  device
    .command("migrate")
    .argument("<sign-in-token>", "a sign-in token for the same user, environment and region as the API key")
    .description("move an installation from its API key to a sign-in token (refused unless in API-key mode)")
    .action(async (token: string) => {
      const sdk = client(opts());
      const status = await sdk.status();
      if (!status.has("useApiKey")) throw new CliError("This device is not in API-key mode; use `device sign-in`.", 1);
      const { userId } = await run(() => sdk.signIn(token));
      if (opts().json) say(JSON.stringify({ userId, migrated: true }));
      else say(`Migrated to a sign-in token as ${userId}; the API key is forgotten.`);
    });

  device
    .command("call")
    .argument("<path>", "an API path, e.g. /v2/user/<user_id>")
    .option("-X, --method <method>", "HTTP method", "GET")
    .option("-d, --data <json>", "a JSON body")
    .description("call tokendesk's API as the device (bearer token or API key, refreshed as needed)")
    .action(async (apiPath: string, o: { method: string; data?: string }) => {
      const sdk = client(opts());
      const res = await run(() =>
        sdk.fetch(apiPath, {
          method: o.method.toUpperCase(),
          headers: o.data ? { "Content-Type": "application/json" } : undefined,
          body: o.data,
        }),
      );
      const text = await res.text();
      if (opts().json) say(JSON.stringify({ status: res.status, body: safeJson(text) }));
      else say(`HTTP ${res.status}\n${text}`);
      if (!res.ok) process.exitCode = 1;
    });

  device
    .command("sign-out")
    .description("sign out: revoke the refresh token and forget every credential")
    .action(async () => {
      const sdk = client(opts());
      await run(() => sdk.signOut());
      say(opts().json ? JSON.stringify({ signedOut: true }) : "Signed out.");
    });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
