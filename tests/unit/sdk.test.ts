import { describe, expect, it } from "vitest";
import { createTokendeskClient, isSdkError, memoryStorage } from "@/lib/sdk";

const TOKEN = `sit_sandbox_us_${"a".repeat(49)}`;
const KEY = `sk_us_${"b".repeat(49)}`;

/** A stand-in for tokendesk's token endpoint and one user-scoped route, counting what it sees. */
function fakeServer(opts: { refreshError?: { error: string; error_description: string } } = {}) {
  const seen = { exchanges: [] as URLSearchParams[], refreshes: 0, revokes: 0, calls: 0, headers: [] as Headers[] };
  let generation = 0;
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    if (url.pathname === "/oauth/token") {
      const form = new URLSearchParams(String(init?.body));
      if (form.get("grant_type") === "refresh_token") {
        seen.refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        if (opts.refreshError) return Response.json(opts.refreshError, { status: 400 });
        generation++;
        return Response.json({ access_token: `at-${generation}`, refresh_token: `rt-${generation}`, expires_in: 3600 });
      }
      seen.exchanges.push(form);
      seen.headers.push(headers);
      return Response.json({ access_token: "at-0", refresh_token: "rt-0", expires_in: 3600, user_id: "u1", environment: "sandbox", region: "us" });
    }
    if (url.pathname === "/oauth/revoke") {
      seen.revokes++;
      return new Response(null, { status: 200 });
    }
    seen.calls++;
    seen.headers.push(headers);
    return Response.json({ auth: headers.get("authorization") });
  };
  return { seen, fetchImpl };
}

describe("client SDK", () => {
  it("signs in once, discards the token, reports its status and refuses a second sign-in", async () => {
    const { seen, fetchImpl } = fakeServer();
    const storage = memoryStorage();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    expect([...(await sdk.status())]).toEqual([]);
    expect(await sdk.signIn(TOKEN)).toEqual({ userId: "u1" });
    expect(seen.exchanges[0]!.get("installation_id")).toBe(await sdk.installationId());
    expect(await sdk.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
    expect(await sdk.currentUserId()).toBe("u1");
    expect(await storage.get("state.v1")).not.toContain(TOKEN);
    await expect(sdk.signIn(TOKEN)).rejects.toMatchObject({ code: "alreadySignedIn" });
  });

  it("keeps its state and installation id across app launches (a new client on the same storage)", async () => {
    const { fetchImpl } = fakeServer();
    const storage = memoryStorage();
    const first = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    await first.signIn(TOKEN);
    const relaunched = createTokendeskClient({ baseUrl: "https://td.test", storage, fetch: fetchImpl });
    expect(await relaunched.currentUserId()).toBe("u1");
    expect(await relaunched.installationId()).toBe(await first.installationId());
  });

  it("refreshes an expired access token exactly once for 100 concurrent calls", async () => {
    let now = 1_000_000;
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl, now: () => now });
    await sdk.signIn(TOKEN);
    now += 3600 * 1000; // the access token has expired
    const answers = await Promise.all(Array.from({ length: 100 }, () => sdk.fetch("/v2/user/u1").then((r) => r.json())));
    expect(seen.refreshes).toBe(1);
    expect(new Set(answers.map((a) => (a as { auth: string }).auth))).toEqual(new Set(["Bearer at-1"]));
  });

  it("migrates an API-key installation on sign-in when the token is compatible", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await sdk.configure({ apiKey: KEY, environment: "sandbox", region: "us" });
    await sdk.setUserId("u1");
    expect(await sdk.status()).toEqual(new Set(["configured", "signedIn", "useApiKey"]));
    await sdk.fetch("/v2/user/u1");
    expect(seen.headers[0]!.get("x-vital-api-key")).toBe(KEY);
    expect(seen.headers[0]!.get("x-installation-id")).toBe(await sdk.installationId());

    await sdk.signIn(TOKEN);
    expect(seen.exchanges[0]!.get("previous_user_id")).toBe("u1");
    expect(seen.headers[1]!.get("x-vital-api-key")).toBe(KEY);
    expect(await sdk.status()).toEqual(new Set(["configured", "signedIn", "useSignInToken"]));
  });

  it("refuses offline to migrate to a token of another environment or region, and sends nothing", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await sdk.configure({ apiKey: KEY, environment: "sandbox", region: "us" });
    await sdk.setUserId("u1");
    await expect(sdk.signIn(`sit_production_us_${"a".repeat(49)}`)).rejects.toMatchObject({ code: "incompatibleMigration" });
    await expect(sdk.signIn(`sit_sandbox_eu_${"a".repeat(49)}`)).rejects.toMatchObject({ code: "incompatibleMigration" });
    expect(seen.exchanges).toHaveLength(0);
  });

  it("signs itself out when the user was deleted", async () => {
    let now = 0;
    const { fetchImpl } = fakeServer({ refreshError: { error: "invalid_grant", error_description: "user_deleted: the user no longer exists" } });
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl, now: () => now });
    await sdk.signIn(TOKEN);
    now += 4000 * 1000;
    const err = await sdk.fetch("/v2/user/u1").catch((e: unknown) => e);
    expect(isSdkError(err, "userDeleted")).toBe(true);
    expect(await sdk.status()).toEqual(new Set());
    expect(await sdk.currentUserId()).toBeNull();
  });

  it("rejects what is not a sign-in token without calling out", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await expect(sdk.signIn("hello")).rejects.toMatchObject({ code: "invalidSignInToken" });
    expect(seen.exchanges).toHaveLength(0);
  });

  it("revokes its refresh token and forgets everything on sign-out", async () => {
    const { seen, fetchImpl } = fakeServer();
    const sdk = createTokendeskClient({ baseUrl: "https://td.test", storage: memoryStorage(), fetch: fetchImpl });
    await sdk.signIn(TOKEN);
    await sdk.signOut();
    expect(seen.revokes).toBe(1);
    expect(await sdk.status()).toEqual(new Set());
    await expect(sdk.fetch("/v2/user/u1")).rejects.toMatchObject({ code: "notSignedIn" });
  });
});
