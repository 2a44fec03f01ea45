/**
 * The client SDK (@tokendesk/sdk, packages/sdk) against a real tokendesk server on PostgreSQL: the whole sign-in-once
 * lifecycle, migration from an API key (and each way it is refused), single-flight refresh, and
 * what the SDK does when the user is deleted or disabled.
 */

import { createTokendeskClient, isSdkError, memoryStorage, type TokendeskClient } from "@tokendesk/sdk";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type DatabaseHandle, openDatabase, queryRows } from "@/db/client";
import { type ApiKeyScope, createApiKey } from "@/lib/api-keys";
import { NO_REQUEST, systemActor } from "@/lib/context";

const baseUrl = inject("baseUrl");
let db: DatabaseHandle;
const keys: Record<string, string> = {};
const ALL: ApiKeyScope[] = ["users:read", "users:write", "sign_in_tokens:write", "sessions:read", "tokens:introspect"];

async function api(path: string, key: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${baseUrl}${path}`, { ...init, headers: { "Content-Type": "application/json", "X-Vital-API-Key": key, ...init.headers } });
}

async function newUser(key = keys.sandboxUs!): Promise<string> {
  const res = await api("/v2/user", key, { method: "POST", body: JSON.stringify({ client_user_id: `sdk-${crypto.randomUUID()}` }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { user_id: string }).user_id;
}

async function signInToken(userId: string, key = keys.sandboxUs!): Promise<string> {
  const res = await api(`/v2/user/${userId}/sign_in_token`, key, { method: "POST" });
  expect(res.status).toBe(200);
  return ((await res.json()) as { sign_in_token: string }).sign_in_token;
}

/** An SDK whose token-endpoint calls are counted, optionally living `skewMs` in the future. */
function sdk(opts: { skewMs?: () => number } = {}): { client: TokendeskClient; tokenCalls: () => number } {
  let calls = 0;
  const client = createTokendeskClient({
    baseUrl,
    storage: memoryStorage(),
    now: () => Date.now() + (opts.skewMs?.() ?? 0),
    fetch: async (input, init) => {
      if (String(input).endsWith("/oauth/token")) calls++;
      return fetch(input, init);
    },
  });
  return { client, tokenCalls: () => calls };
}

beforeAll(async () => {
  db = await openDatabase({ databaseUrl: inject("databaseUrl"), maxConnections: 4 });
  for (const [name, environment, region] of [
    ["sandboxUs", "sandbox", "us"],
    ["sandboxEu", "sandbox", "eu"],
    ["productionUs", "production", "us"],
  ] as const) {
    keys[name] = (await createApiKey(db.db, systemActor("test"), { name: `sdk-${name}`, environment, region, scopes: ALL }, NO_REQUEST)).key;
  }
});
afterAll(async () => db?.close());

describe("SDK against a real server", () => {
  it("signs in once, calls the API as the user, and signs out (the session ends on the server)", async () => {
    const userId = await newUser();
    const { client } = sdk();
    expect(await client.signIn(await signInToken(userId))).toEqual({ userId });
    expect(await client.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    const me = await client.fetch(`/v2/user/${userId}`);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user_id: string }).user_id).toBe(userId);
    // Someone else's user is not reachable with this user's token.
    expect((await client.fetch(`/v2/user/${await newUser()}`)).status).toBe(403);
    await client.signOut();
    const [session] = await queryRows<{ revoked_at: Date | null }>(db.db, sql`select revoked_at from sdk_sessions where user_id = ${userId}::uuid`);
    expect(session!.revoked_at).not.toBeNull();
    expect(await client.status()).toEqual(new Set());
  });

  it("migrates an API-key installation: recorded while on the key, marked migrated after sign-in", async () => {
    const userId = await newUser();
    const { client } = sdk();
    await client.configure({ apiKey: keys.sandboxUs!, environment: "sandbox", region: "us" });
    await client.setUserId(userId);
    expect((await client.fetch(`/v2/user/${userId}`)).status).toBe(200);
    const installationId = await client.installationId();
    const seen = await queryRows<{ migrated_at: Date | null }>(
      db.db,
      sql`select migrated_at from api_key_installations where user_id = ${userId}::uuid and installation_id = ${installationId}`,
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.migrated_at).toBeNull();

    await client.signIn(await signInToken(userId));
    expect(await client.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    const [after] = await queryRows<{ migrated_at: Date | null }>(
      db.db,
      sql`select migrated_at from api_key_installations where user_id = ${userId}::uuid and installation_id = ${installationId}`,
    );
    expect(after!.migrated_at).not.toBeNull();
    const events = await queryRows<{ n: number }>(
      db.db,
      sql`select count(*)::int as n from audit_events where action = 'migration.completed' and details->>'userId' = ${userId}`,
    );
    expect(Number(events[0]!.n)).toBe(1);
  });

  it("refuses each incompatible migration and leaves the token usable for a proper sign-in", async () => {
    const userId = await newUser();
    const otherUser = await newUser();

    // User: only the server can tell; the SDK reports incompatibleMigration.
    const token = await signInToken(userId);
    const { client: wrongUser } = sdk();
    await wrongUser.configure({ apiKey: keys.sandboxUs!, environment: "sandbox", region: "us" });
    await wrongUser.setUserId(otherUser);
    const err = await wrongUser.signIn(token).catch((e: unknown) => e);
    expect(isSdkError(err, "incompatibleMigration")).toBe(true);
    expect(await wrongUser.status()).toEqual(new Set(["configured", "signedIn", "useApiKey"]));

    // Environment and region: what an SDK that skipped the offline check would send.
    for (const key of [keys.productionUs!, keys.sandboxEu!]) {
      const res = await fetch(`${baseUrl}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Vital-API-Key": key },
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token: token,
          subject_token_type: "urn:tokendesk:params:oauth:token-type:sign-in-token",
          previous_user_id: userId,
        }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; error_description: string };
      expect(body.error).toBe("invalid_grant");
      expect(body.error_description).toMatch(/^incompatible_migration:/);
    }

    // The same token still signs a fresh installation in.
    const { client: proper } = sdk();
    expect(await proper.signIn(token)).toEqual({ userId });
    const rejected = await queryRows<{ reason: string }>(
      db.db,
      sql`select reason from audit_events where action = 'migration.rejected' and details->>'userId' = ${userId} order by occurred_at`,
    );
    expect(rejected.map((r) => r.reason)).toEqual(["user_mismatch", "environment_mismatch", "region_mismatch"]);
  });

  it("refreshes once for 100 concurrent calls with an expired access token", async () => {
    const userId = await newUser();
    let skew = 0;
    const { client, tokenCalls } = sdk({ skewMs: () => skew });
    await client.signIn(await signInToken(userId));
    expect(tokenCalls()).toBe(1);
    skew = 2 * 3600 * 1000; // the SDK's clock is past the access token's expiry
    const statuses = await Promise.all(Array.from({ length: 100 }, () => client.fetch(`/v2/user/${userId}`).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(tokenCalls()).toBe(2);
    const [tokens] = await queryRows<{ n: number }>(
      db.db,
      sql`select count(*)::int as n from refresh_tokens r join sdk_sessions s on s.id = r.session_id where s.user_id = ${userId}::uuid`,
    );
    expect(Number(tokens!.n)).toBe(2);
  });

  it("signs itself out when the user is deleted", async () => {
    const userId = await newUser();
    const { client } = sdk();
    await client.signIn(await signInToken(userId));
    expect((await api(`/v2/user/${userId}`, keys.sandboxUs!, { method: "DELETE" })).status).toBe(200);
    const err = await client.fetch(`/v2/user/${userId}`).catch((e: unknown) => e);
    expect(isSdkError(err, "userDeleted")).toBe(true);
    expect(await client.status()).toEqual(new Set());
    expect(await client.currentUserId()).toBeNull();
  });

  it("fails calls with a typed error while the user is disabled", async () => {
    const userId = await newUser();
    const { client } = sdk();
    await client.signIn(await signInToken(userId));
    const disabled = await api(`/v2/user/${userId}/status`, keys.sandboxUs!, { method: "PUT", body: JSON.stringify({ disabled: true }) });
    expect(disabled.status).toBe(204);
    const err = await client.fetch(`/v2/user/${userId}`).catch((e: unknown) => e);
    expect(isSdkError(err, "userDisabled")).toBe(true);
    expect((await client.status()).has("pendingReauthentication")).toBe(true);
  });
});
