/**
 * Forged and stale JWTs are refused by the user-scoped API (GET /v2/user/{id} with a bearer token):
 * `alg: none`, a foreign key, a tampered payload, expiry, wrong iss/aud, keys named in the header
 * (`jku`/`jwk`), a revoked jti and a disabled user. The server's own key signs the stale and
 * wrong-claim variants, so only the rule under test is broken.
 */
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { currentSigningKey } from "@/lib/oauth/signing-keys";
import { baseUrl, call, createUserOver, exchangeOver, form, issueOver, mintKey, openTestDb } from "../helpers/machine-api";

let handle: DatabaseHandle;
let key: string;
let user: { user_id: string };
let other: { user_id: string };
let access: string;
let claims: jose.JWTPayload;

beforeAll(async () => {
  handle = await openTestDb();
  key = (await mintKey(handle)).key;
  user = await createUserOver(key);
  other = await createUserOver(key);
  const res = await exchangeOver(await issueOver(key, user.user_id));
  access = res.body.access_token;
  claims = jose.decodeJwt(access);
});
afterAll(async () => {
  await handle.close();
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const readMe = (token: string, id = user.user_id) => call(`/v2/user/${id}`, { bearer: token });

/** Signs `payload` with the server's current key (the test shares its database and secret). */
async function signWithServerKey(payload: jose.JWTPayload, header: Partial<jose.JWTHeaderParameters> = {}) {
  const { kid, key: privateKey } = await currentSigningKey(handle.db);
  return new jose.SignJWT(payload).setProtectedHeader({ alg: "ES256", kid, typ: "JWT", ...header }).sign(privateKey);
}

describe("the user-scoped API and JWTs", () => {
  it("accepts the user's own token and refuses it for another user with 403", async () => {
    const me = await readMe(access);
    expect(me.status).toBe(200);
    expect(me.body.user_id).toBe(user.user_id);
    const theirs = await readMe(access, other.user_id);
    expect(theirs.status).toBe(403);
    expect(theirs.body.error.code).toBe("forbidden");
  });

  it("refuses alg none, a foreign key, a tampered payload", async () => {
    const [h, p] = access.split(".");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${p}.`;
    const { privateKey } = await jose.generateKeyPair("ES256");
    const foreign = await new jose.SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: jose.decodeProtectedHeader(access).kid }).sign(privateKey);
    const tampered = `${h}.${b64({ ...claims, sub: other.user_id })}.${access.split(".")[2]}`;
    const hs256 = await new jose.SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("x".repeat(32)));
    for (const token of [none, foreign, tampered, hs256, "not.a.jwt", "garbage"]) {
      const res = await readMe(token, token === tampered ? other.user_id : user.user_id);
      expect(res.status, token.slice(0, 30)).toBe(401);
      expect(res.body.error.code).toBe("invalid_token");
    }
  });

  it("refuses expired tokens and wrong issuer or audience, even when signed by tokendesk's key", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await signWithServerKey({ ...claims, iat: now - 7200, exp: now - 3600 });
    const wrongIss = await signWithServerKey({ ...claims, iss: "https://evil.example" });
    const wrongAud = await signWithServerKey({ ...claims, aud: "tokendesk-device" });
    const control = await signWithServerKey({ ...claims });
    expect((await readMe(control)).status).toBe(200);
    for (const token of [expired, wrongIss, wrongAud]) expect((await readMe(token)).status).toBe(401);
  });

  it("refuses tokens that name their own key (jku, jwk)", async () => {
    const jku = await signWithServerKey({ ...claims }, { jku: "https://evil.example/jwks.json" });
    const attacker = await jose.generateKeyPair("ES256", { extractable: true });
    const jwk = await new jose.SignJWT(claims).setProtectedHeader({ alg: "ES256", jwk: await jose.exportJWK(attacker.publicKey) }).sign(attacker.privateKey);
    const jwkWithOurKid = await signWithServerKey({ ...claims }, { jwk: await jose.exportJWK(attacker.publicKey) });
    for (const token of [jku, jwk, jwkWithOurKid]) {
      const res = await readMe(token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("invalid_token");
    }
  });

  it("refuses a revoked access token and every token of a disabled user at once", async () => {
    const res = await exchangeOver(await issueOver(key, user.user_id));
    const token: string = res.body.access_token;
    expect((await readMe(token)).status).toBe(200);
    expect((await form("/oauth/revoke", { token })).status).toBe(200);
    expect((await readMe(token)).status).toBe(401);

    expect((await readMe(access)).status).toBe(200);
    expect((await call(`/v2/user/${user.user_id}/status`, { method: "PUT", key, json: { disabled: true } })).status).toBe(204);
    const refused = await readMe(access);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/^user_disabled/);
    // The JWT itself still verifies offline: the refusal is tokendesk's own, immediate check.
    const jwks = jose.createRemoteJWKSet(new URL(`${baseUrl()}/.well-known/jwks.json`));
    await expect(jose.jwtVerify(access, jwks, { issuer: baseUrl(), audience: "tokendesk" })).resolves.toMatchObject({ payload: { sub: user.user_id } });
  });
});
