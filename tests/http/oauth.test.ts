/**
 * The machine API as an integrator's backend and SDK use it over HTTP (the README's curl examples
 * follow these calls): users, sign-in tokens, exchange, refresh, introspection, revocation,
 * disabling and deleting, API-key installations and the migration from an API key.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { apiKeyInstallations, auditEvents, signInTokens } from "@/db/schema";
import { hashSecret } from "@/lib/crypto/keys";
import { baseUrl, call, createUserOver, exchangeOver, form, issueOver, mintKey, openTestDb, refreshOver, uniq } from "../helpers/machine-api";

/** Everything in audit rows as text (txid is a bigint). */
const dump = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDb();
});
afterAll(async () => {
  await handle.close();
});

const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

describe("users over HTTP", () => {
  it("creates, refuses a taken client user id with its user id, reads, resolves and lists", async () => {
    const { key } = await mintKey(handle, { environment: "production", region: "eu" });
    const cid = uniq("customer");
    const created = await call("/v2/user", { key, json: { client_user_id: cid, email: "noor@example.test", name: "Noor" } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ client_user_id: cid, environment: "production", region: "eu" });
    expect(Date.parse(created.body.created_on)).not.toBeNaN();
    const id = created.body.user_id;

    const taken = await call("/v2/user", { key, json: { client_user_id: cid } });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: "client_user_id_taken", user_id: id });

    expect((await call(`/v2/user/${id}`, { key })).body.user_id).toBe(id);
    expect((await call(`/v2/user/resolve/${encodeURIComponent(cid)}`, { key })).body.user_id).toBe(id);
    const list = await call(`/v2/users?q=${encodeURIComponent(cid)}&limit=5`, { key });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ users: [expect.objectContaining({ user_id: id })], next_cursor: null });
  });

  it("records API-key installations seen on GET /v2/user with X-Installation-Id", async () => {
    const { key, id: keyId } = await mintKey(handle);
    const user = await createUserOver(key);
    for (let i = 0; i < 3; i++) {
      expect((await call(`/v2/user/${user.user_id}`, { key, headers: { "X-Installation-Id": "android-7f3c" } })).status).toBe(200);
    }
    const rows = await handle.db.select().from(apiKeyInstallations).where(eq(apiKeyInstallations.apiKeyId, keyId));
    expect(rows).toEqual([expect.objectContaining({ userId: user.user_id, installationId: "android-7f3c", migratedAt: null })]);
  });
});

describe("bearer calls over HTTP", () => {
  it("reads only its own user, and stops at once on revocation or disabling although the JWT verified before", async () => {
    const { key } = await mintKey(handle);
    const user = await createUserOver(key, { email: "bearer@example.test" });
    const other = await createUserOver(key);
    const issue = async () => (await exchangeOver(await issueOver(key, user.user_id))).body;
    const first = await issue();
    for (let i = 0; i < 3; i++) {
      const me = await call(`/v2/user/${user.user_id}`, { bearer: first.access_token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ user_id: user.user_id, client_user_id: user.client_user_id, email: "bearer@example.test" });
    }
    expect((await call(`/v2/user/${other.user_id}`, { bearer: first.access_token })).status).toBe(403);

    // Revoked one by one: refused on the next call, although its signature was verified (and cached) before.
    expect((await form("/oauth/revoke", { token: first.access_token })).status).toBe(200);
    expect((await call(`/v2/user/${user.user_id}`, { bearer: first.access_token })).status).toBe(401);

    const second = await issue();
    expect((await call(`/v2/user/${user.user_id}`, { bearer: second.access_token })).status).toBe(200);
    expect((await call(`/v2/user/${user.user_id}/status`, { key, method: "PUT", json: { disabled: true } })).status).toBe(204);
    const refused = await call(`/v2/user/${user.user_id}`, { bearer: second.access_token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/disabled|ended/);
  });
});

describe("sign-in tokens and the token service over HTTP", () => {
  it("issues, exchanges, refreshes, introspects and revokes", async () => {
    const { key } = await mintKey(handle);
    const user = await createUserOver(key);
    const issued = await call(`/v2/user/${user.user_id}/sign_in_token`, { key, json: { expires_in_seconds: 300 } });
    expect(issued.status).toBe(200);
    expect(issued.body.sign_in_token).toMatch(/^sit_sandbox_us_[0-9A-Za-z]{49}$/);
    expect(Date.parse(issued.body.expires_at) - Date.now()).toBeGreaterThan(290_000);
    expect(issued.body.user_id).toBe(user.user_id);

    const ex = await exchangeOver(issued.body.sign_in_token, { installation_id: "ios-install-1" });
    expect(ex.status).toBe(200);
    expect(ex.headers.get("cache-control")).toBe("no-store");
    expect(ex.body).toMatchObject({
      token_type: "Bearer",
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      expires_in: 3600,
      user_id: user.user_id,
      environment: "sandbox",
      region: "us",
    });

    // JSON bodies are accepted too.
    const refreshed = await call("/oauth/token", { json: { grant_type: "refresh_token", refresh_token: ex.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(ex.body.refresh_token);

    const introspect = (token: string) => call("/oauth/introspect", { key, body: new URLSearchParams({ token }).toString(), headers: FORM });
    const live = await introspect(refreshed.body.access_token);
    expect(live.body).toMatchObject({ active: true, sub: user.user_id, environment: "sandbox", region: "us", token_type: "access_token" });
    expect((await introspect(refreshed.body.refresh_token)).body).toMatchObject({ active: true, token_type: "refresh_token", sid: live.body.sid });
    const { key: otherEnv } = await mintKey(handle, { environment: "production" });
    expect((await call("/oauth/introspect", { key: otherEnv, body: `token=${refreshed.body.access_token}`, headers: FORM })).body).toEqual({ active: false });

    expect((await form("/oauth/revoke", { token: refreshed.body.refresh_token, token_type_hint: "refresh_token" })).status).toBe(200);
    expect((await introspect(refreshed.body.access_token)).body).toEqual({ active: false });
    expect((await refreshOver(refreshed.body.refresh_token)).body.error).toBe("invalid_grant");
  });

  it("refuses a disabled user's sign-in token and tells SDKs of a deleted user to sign out", async () => {
    const { key } = await mintKey(handle);
    const user = await createUserOver(key);
    const ex = await exchangeOver(await issueOver(key, user.user_id));
    expect((await call(`/v2/user/${user.user_id}/status`, { method: "PUT", key, json: { disabled: true } })).status).toBe(204);
    const refused = await call(`/v2/user/${user.user_id}/sign_in_token`, { key, json: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("user_disabled");
    expect((await refreshOver(ex.body.refresh_token)).body.error_description).toMatch(/^user_disabled/);
    expect((await call(`/v2/user/${user.user_id}/status`, { method: "PUT", key, json: { disabled: false } })).status).toBe(204);

    const again = await exchangeOver(await issueOver(key, user.user_id));
    // Junction's answer to a delete (issue 13 changed it from 204).
    const deleted = await call(`/v2/user/${user.user_id}`, { method: "DELETE", key });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ success: true });
    const gone = await refreshOver(again.body.refresh_token);
    expect(gone.status).toBe(400);
    expect(gone.body.error).toBe("invalid_grant");
    expect(gone.body.error_description).toMatch(/^user_deleted/);
    expect((await call(`/v2/user/${user.user_id}`, { key })).status).toBe(404);
    expect((await call(`/v2/user/${user.user_id}/sign_in_token`, { key, json: {} })).status).toBe(404);
  });
});

describe("a user's pending sign-in tokens over HTTP", () => {
  it("lists them by token_id without the secret, revokes one (204, audited), and its exchange then fails", async () => {
    const { key, id: keyId } = await mintKey(handle);
    const user = await createUserOver(key);
    const first = await call(`/v2/user/${user.user_id}/sign_in_token`, { key, json: {} });
    const second = await call(`/v2/user/${user.user_id}/sign_in_token`, { key, json: { expires_in_seconds: 86_400 } });
    expect(first.body.token_id).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await call(`/v2/user/${user.user_id}/sign_in_tokens`, { key });
    expect(listed.status).toBe(200);
    expect(listed.headers.get("cache-control")).toBe("no-store");
    expect(listed.body.tokens.map((t: { token_id: string }) => t.token_id)).toEqual([second.body.token_id, first.body.token_id]);
    expect(listed.body.tokens[0]).toMatchObject({ expires_at: second.body.expires_at, issued_by: { type: "api_key" } });
    expect(JSON.stringify(listed.body)).not.toContain(first.body.sign_in_token);

    const path = `/v2/user/${user.user_id}/sign_in_tokens/${first.body.token_id}`;
    const revoked = await call(path, { method: "DELETE", key });
    expect(revoked.status).toBe(204);
    expect((await call(path, { method: "DELETE", key })).status).toBe(204);
    const [event] = await handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "sign_in_token.revoked"), eq(auditEvents.targetId, user.user_id)));
    expect(event).toMatchObject({ actorType: "api_key", actorId: keyId });
    expect((await exchangeOver(first.body.sign_in_token)).body.error).toBe("invalid_grant");
    expect((await call(`/v2/user/${user.user_id}/sign_in_tokens`, { key })).body.tokens).toHaveLength(1);

    // Used: 409; unknown: 404; a key without the scope: 403; another environment's key: 404.
    expect((await exchangeOver(second.body.sign_in_token)).status).toBe(200);
    const used = await call(`/v2/user/${user.user_id}/sign_in_tokens/${second.body.token_id}`, { method: "DELETE", key });
    expect(used.status).toBe(409);
    expect(used.body.error.code).toBe("conflict");
    const unknown = await call(`/v2/user/${user.user_id}/sign_in_tokens/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b`, { method: "DELETE", key });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "sign_in_token_not_found"]);
    const { key: readOnly } = await mintKey(handle, { scopes: ["users:read"] });
    expect((await call(path, { method: "DELETE", key: readOnly })).status).toBe(403);
    const { key: production } = await mintKey(handle, { environment: "production" });
    expect((await call(`/v2/user/${user.user_id}/sign_in_tokens`, { key: production })).status).toBe(404);
  });
});

describe("migration from an API key", () => {
  it("refuses an incompatible migration without consuming the token, then completes a compatible one", async () => {
    const { key: sandboxUs, id: keyId, prefix } = await mintKey(handle, { environment: "sandbox", region: "us" });
    const { key: sandboxEu } = await mintKey(handle, { environment: "sandbox", region: "eu" });
    const { key: production } = await mintKey(handle, { environment: "production", region: "us" });
    const user = await createUserOver(sandboxUs);
    const other = await createUserOver(sandboxUs);
    await call(`/v2/user/${user.user_id}`, { key: sandboxUs, headers: { "X-Installation-Id": "legacy-install-9" } });
    const token = await issueOver(sandboxUs, user.user_id);

    const attempts: Array<[string | undefined, string | undefined, RegExp]> = [
      [production, user.user_id, /environment/],
      [sandboxEu, user.user_id, /region/],
      [sandboxUs, other.user_id, /previous_user_id/],
      [sandboxUs, undefined, /previous_user_id is required/],
      ["sk_us_not-a-real-key", user.user_id, /not one of this team's keys/],
    ];
    for (const [apiKey, previous, why] of attempts) {
      const res = await exchangeOver(
        token,
        { installation_id: "legacy-install-9", ...(previous ? { previous_user_id: previous } : {}) },
        apiKey ? { "X-Vital-API-Key": apiKey } : {},
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_grant");
      expect(res.body.error_description).toMatch(/^incompatible_migration: /);
      expect(res.body.error_description).toMatch(why);
    }
    const [row] = await handle.db
      .select()
      .from(signInTokens)
      .where(eq(signInTokens.tokenHash, hashSecret(token)));
    expect(row!.usedAt).toBeNull();
    const rejected = await handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "migration.rejected"), eq(auditEvents.targetId, user.user_id)));
    expect(rejected.map((e) => e.reason).sort()).toEqual([
      "environment_mismatch",
      "previous_user_id_missing",
      "region_mismatch",
      "unknown_api_key",
      "user_mismatch",
    ]);
    expect(dump(rejected)).not.toContain(sandboxUs);

    const ok = await exchangeOver(token, { installation_id: "legacy-install-9", previous_user_id: user.user_id }, { "X-Vital-API-Key": sandboxUs });
    expect(ok.status).toBe(200);
    const [completed] = await handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "migration.completed"), eq(auditEvents.targetId, user.user_id)));
    expect(completed!.details).toMatchObject({ apiKeyId: keyId, apiKeyPrefix: prefix, installationId: "legacy-install-9", userId: user.user_id });
    const [inst] = await handle.db.select().from(apiKeyInstallations).where(eq(apiKeyInstallations.apiKeyId, keyId));
    expect(inst!.migratedAt).toBeInstanceOf(Date);
    // The installation points at the session this exchange started (the access token's sid).
    const { sid } = JSON.parse(Buffer.from(ok.body.access_token.split(".")[1], "base64url").toString()) as { sid: string };
    expect(inst!.migratedSessionId).toBe(sid);
  });

  it("publishes RFC 8414 metadata and the JWKS", async () => {
    const meta = await call("/.well-known/oauth-authorization-server");
    expect(meta.body).toMatchObject({
      issuer: baseUrl(),
      token_endpoint: `${baseUrl()}/oauth/token`,
      revocation_endpoint: `${baseUrl()}/oauth/revoke`,
      introspection_endpoint: `${baseUrl()}/oauth/introspect`,
      jwks_uri: `${baseUrl()}/.well-known/jwks.json`,
    });
    const jwks = await call("/.well-known/jwks.json");
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    for (const k of jwks.body.keys) {
      expect(k).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
      expect(k.d).toBeUndefined(); // never the private part
    }
  });
});
