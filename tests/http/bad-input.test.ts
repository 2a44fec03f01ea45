/**
 * The bad-input matrix over every endpoint of the users / sign-in token / OAuth API: missing,
 * oversized and malformed bodies, wrong types, bad UUIDs, unknown grant types, wrong scopes and
 * revoked keys. Each answer is the contract's 4xx (never a 500) and nothing is written.
 */

import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { apiKeys } from "@/db/schema";
import { revokeApiKey } from "@/lib/api-keys";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { databaseDigest, type Exemption, expectUnchanged } from "../helpers/db-digest";
import {
  type CallOptions,
  call,
  createUserOver,
  exchangeOver,
  form,
  issueOver,
  mintKey,
  openTestDb,
  SIGN_IN_TOKEN_TYPE,
  TOKEN_EXCHANGE,
} from "../helpers/machine-api";

let handle: DatabaseHandle;
let key: string;
let keyIds: string[];
let readOnly: string;
let revoked: string;
let prodKey: string;
let userId: string;
let signInToken: string;
const RANDOM_UUID = "0190f5c2-6c1e-7d4a-9b2f-3c4d5e6f7a8b";
const big = "x".repeat(70 * 1024);

beforeAll(async () => {
  handle = await openTestDb();
  const k = await mintKey(handle);
  key = k.key;
  readOnly = (await mintKey(handle, { scopes: ["users:read"] })).key;
  const r = await mintKey(handle);
  revoked = r.key;
  await revokeApiKey(handle.db, systemActor("http test"), r.id, "test", NO_REQUEST);
  const p = await mintKey(handle, { environment: "production" });
  prodKey = p.key;
  keyIds = [k.id, p.id];
  userId = (await createUserOver(key)).user_id;
  signInToken = await issueOver(key, userId);
});
afterAll(async () => {
  await handle.close();
});

type Case = [name: string, path: string, opts: CallOptions, status: number, code: string];

const FORM = { "Content-Type": "application/x-www-form-urlencoded" };
const enc = (p: Record<string, string>) => new URLSearchParams(p).toString();

function v2Cases(): Case[] {
  const u = () => `/v2/user/${userId}`;
  return [
    ["no key", "/v2/user", { json: { client_user_id: "a" } }, 401, "invalid_api_key"],
    ["garbage key", "/v2/user", { key: "sk_us_nope", json: { client_user_id: "a" } }, 401, "invalid_api_key"],
    ["bad checksum key", "/v2/user", { key: key.slice(0, -1) + (key.endsWith("A") ? "B" : "A"), json: { client_user_id: "a" } }, 401, "invalid_api_key"],
    ["revoked key", "/v2/user", { key: revoked, json: { client_user_id: "a" } }, 401, "invalid_api_key"],
    ["missing scope", "/v2/user", { key: readOnly, json: { client_user_id: "a" } }, 403, "insufficient_scope"],
    ["malformed JSON", "/v2/user", { key, body: "{nope", headers: { "Content-Type": "application/json" } }, 400, "invalid_json"],
    ["empty body", "/v2/user", { key, method: "POST" }, 400, "invalid_json"],
    ["array body", "/v2/user", { key, json: [1, 2] }, 422, "validation_failed"],
    ["number client_user_id", "/v2/user", { key, json: { client_user_id: 42 } }, 422, "validation_failed"],
    ["empty client_user_id", "/v2/user", { key, json: { client_user_id: "  " } }, 422, "validation_failed"],
    ["long client_user_id", "/v2/user", { key, json: { client_user_id: "c".repeat(300) } }, 422, "validation_failed"],
    ["bad email", "/v2/user", { key, json: { client_user_id: "ok", email: "not-an-email" } }, 422, "validation_failed"],
    ["name object", "/v2/user", { key, json: { client_user_id: "ok", name: { first: "x" } } }, 422, "validation_failed"],
    ["oversized body", "/v2/user", { key, json: { client_user_id: big } }, 413, "payload_too_large"],
    ["get bad uuid", "/v2/user/not-a-uuid", { key }, 404, "user_not_found"],
    ["get unknown uuid", `/v2/user/${RANDOM_UUID}`, { key }, 404, "user_not_found"],
    ["get other environment", u(), { key: prodKey }, 404, "user_not_found"],
    ["get garbage bearer", u(), { bearer: "x.y.z" }, 401, "invalid_token"],
    ["get no auth", u(), {}, 401, "invalid_api_key"],
    ["get with revoked key", u(), { key: revoked }, 401, "invalid_api_key"],
    ["resolve unknown", "/v2/user/resolve/nobody-here", { key }, 404, "user_not_found"],
    ["junction list no key", "/v2/user?limit=10", {}, 401, "invalid_api_key"],
    ["junction list limit 0", "/v2/user?limit=0", { key }, 422, "validation_failed"],
    ["junction list limit 201", "/v2/user?limit=201", { key }, 422, "validation_failed"],
    ["junction list negative offset", "/v2/user?offset=-1", { key }, 422, "validation_failed"],
    ["junction list offset text", "/v2/user?offset=ten", { key }, 422, "validation_failed"],
    ["list limit 0", "/v2/users?limit=0", { key }, 422, "validation_failed"],
    ["list limit 201", "/v2/users?limit=201", { key }, 422, "validation_failed"],
    ["list limit text", "/v2/users?limit=abc", { key }, 422, "validation_failed"],
    ["list bad cursor", "/v2/users?cursor=garbage", { key }, 400, "invalid_cursor"],
    ["list bad status", "/v2/users?status=deleted", { key }, 422, "validation_failed"],
    ["status string", `${u()}/status`, { key, method: "PUT", json: { disabled: "yes" } }, 422, "validation_failed"],
    ["status empty object", `${u()}/status`, { key, method: "PUT", json: {} }, 422, "validation_failed"],
    ["status bad uuid", "/v2/user/123/status", { key, method: "PUT", json: { disabled: true } }, 404, "user_not_found"],
    ["status no scope", `${u()}/status`, { key: readOnly, method: "PUT", json: { disabled: true } }, 403, "insufficient_scope"],
    ["status other env", `${u()}/status`, { key: prodKey, method: "PUT", json: { disabled: true } }, 404, "user_not_found"],
    ["delete bad uuid", "/v2/user/zzz", { key, method: "DELETE" }, 404, "user_not_found"],
    ["delete no scope", u(), { key: readOnly, method: "DELETE" }, 403, "insufficient_scope"],
    ["delete revoked key", u(), { key: revoked, method: "DELETE" }, 401, "invalid_api_key"],
    ["sit ttl 59", `${u()}/sign_in_token`, { key, json: { expires_in_seconds: 59 } }, 422, "validation_failed"],
    ["sit ttl 86401", `${u()}/sign_in_token`, { key, json: { expires_in_seconds: 86_401 } }, 422, "validation_failed"],
    ["sit ttl string", `${u()}/sign_in_token`, { key, json: { expires_in_seconds: "600" } }, 422, "validation_failed"],
    ["sit ttl fraction", `${u()}/sign_in_token`, { key, json: { expires_in_seconds: 60.5 } }, 422, "validation_failed"],
    ["sit malformed", `${u()}/sign_in_token`, { key, body: "{", headers: { "Content-Type": "application/json" } }, 400, "invalid_json"],
    ["sit bad uuid", "/v2/user/%20/sign_in_token", { key, json: {} }, 404, "user_not_found"],
    ["sit no scope", `${u()}/sign_in_token`, { key: readOnly, json: {} }, 403, "insufficient_scope"],
    ["sit other env", `${u()}/sign_in_token`, { key: prodKey, json: {} }, 404, "user_not_found"],
  ];
}

function oauthCases(): Case[] {
  const x = (params: Record<string, string>, headers: Record<string, string> = FORM): CallOptions => ({ body: enc(params), headers });
  const exchange = { grant_type: TOKEN_EXCHANGE, subject_token_type: SIGN_IN_TOKEN_TYPE };
  return [
    ["token no body", "/oauth/token", { method: "POST" }, 400, "invalid_request"],
    ["token no grant", "/oauth/token", x({ refresh_token: "x" }), 400, "invalid_request"],
    ["token password grant", "/oauth/token", x({ grant_type: "password", username: "a", password: "b" }), 400, "unsupported_grant_type"],
    ["token client credentials", "/oauth/token", x({ grant_type: "client_credentials" }), 400, "unsupported_grant_type"],
    ["exchange no subject", "/oauth/token", x(exchange), 400, "invalid_request"],
    [
      "exchange wrong type",
      "/oauth/token",
      x({ ...exchange, subject_token: signInToken, subject_token_type: "urn:ietf:params:oauth:token-type:jwt" }),
      400,
      "invalid_request",
    ],
    ["exchange wrong requested type", "/oauth/token", x({ ...exchange, subject_token: signInToken, requested_token_type: "urn:x" }), 400, "invalid_request"],
    ["exchange garbage token", "/oauth/token", x({ ...exchange, subject_token: "sit_sandbox_us_garbage" }), 400, "invalid_grant"],
    ["exchange forged checksum", "/oauth/token", x({ ...exchange, subject_token: `${signInToken.slice(0, -2)}00` }), 400, "invalid_grant"],
    ["exchange long installation", "/oauth/token", x({ ...exchange, subject_token: signInToken, installation_id: "i".repeat(300) }), 400, "invalid_request"],
    [
      "exchange repeated param",
      "/oauth/token",
      { body: `${enc({ ...exchange, subject_token: signInToken })}&grant_type=refresh_token`, headers: FORM },
      400,
      "invalid_request",
    ],
    ["refresh missing", "/oauth/token", x({ grant_type: "refresh_token" }), 400, "invalid_request"],
    ["refresh garbage", "/oauth/token", x({ grant_type: "refresh_token", refresh_token: "rt_nope" }), 400, "invalid_grant"],
    ["token JSON number", "/oauth/token", { json: { grant_type: "refresh_token", refresh_token: 12 } }, 400, "invalid_request"],
    ["token JSON array", "/oauth/token", { json: ["refresh_token"] }, 400, "invalid_request"],
    ["token malformed JSON", "/oauth/token", { body: "{", headers: { "Content-Type": "application/json" } }, 400, "invalid_request"],
    ["token text/plain", "/oauth/token", { body: "grant_type=refresh_token", headers: { "Content-Type": "text/plain" } }, 400, "invalid_request"],
    ["token oversized", "/oauth/token", x({ grant_type: "refresh_token", refresh_token: big }), 413, "invalid_request"],
    ["revoke no token", "/oauth/revoke", x({}), 400, "invalid_request"],
    ["revoke oversized", "/oauth/revoke", x({ token: big }), 413, "invalid_request"],
    ["introspect no key", "/oauth/introspect", x({ token: "x" }), 401, "invalid_client"],
    ["introspect revoked key", "/oauth/introspect", { ...x({ token: "x" }), key: revoked }, 401, "invalid_client"],
    ["introspect no scope", "/oauth/introspect", { ...x({ token: "x" }), key: readOnly }, 403, "insufficient_scope"],
    ["introspect no token", "/oauth/introspect", { ...x({}), key }, 400, "invalid_request"],
  ];
}

/**
 * Every table must come out as it went in, with one exception: a request whose key authenticates
 * stamps the key's last use (once a minute at most, whatever the request's input) — only for the
 * two keys that do authenticate here; the revoked and read-only keys' rows stay fully compared.
 */
const keyStamp = (): Exemption[] => [
  { table: "api_keys", column: "last_used_at", where: inArray(apiKeys.id, keyIds), because: "an authenticated request stamps its key's last use" },
];

describe("bad input never gets a 500 and never writes", () => {
  it("answers the contract's 4xx on /v2 and writes nothing", async () => {
    const before = await databaseDigest(handle.db, { except: keyStamp() });
    for (const [name, path, opts, status, code] of v2Cases()) {
      const res = await call(path, opts);
      expect({ name, status: res.status, code: res.body?.error?.code }).toEqual({ name, status, code });
      expect(typeof res.body.error.message, name).toBe("string");
    }
    await expectUnchanged(handle.db, before);
  });

  it("answers RFC 6749 errors with no-store on /oauth and writes nothing (the sign-in token stays usable)", async () => {
    const before = await databaseDigest(handle.db, { except: keyStamp() });
    for (const [name, path, opts, status, error] of oauthCases()) {
      const res = await call(path, opts);
      expect({ name, status: res.status, error: res.body?.error }).toEqual({ name, status, error });
      expect(typeof res.body.error_description, name).toBe("string");
      expect(res.headers.get("cache-control"), name).toBe("no-store");
    }
    // Unknown tokens are not errors for revocation and introspection (RFC 7009 / 7662).
    const revoke = await form("/oauth/revoke", { token: "whatever" });
    expect(revoke.status).toBe(200);
    const introspect = await call("/oauth/introspect", { key, body: enc({ token: "whatever" }), headers: FORM });
    expect(introspect.body).toEqual({ active: false });
    await expectUnchanged(handle.db, before);

    // None of the refused exchanges consumed the token.
    const ok = await exchangeOver(signInToken, { client_id: "ignored-by-design" });
    expect(ok.status).toBe(200);
  });
});
