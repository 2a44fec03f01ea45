/**
 * An unmodified standard OAuth client (openid-client 6) against a running tokendesk: it discovers
 * the RFC 8414 metadata, exchanges a sign-in token, refreshes and revokes; the access tokens verify
 * with jose against the JWKS URL, before and after a signing-key rotation.
 */
import * as jose from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { rotateSigningKey } from "@/lib/oauth/signing-keys";
import { baseUrl, createUserOver, issueOver, mintKey, openTestDb, refreshOver, SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE } from "../helpers/machine-api";

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDb();
});
afterAll(async () => {
  await handle.close();
});

async function discover() {
  return client.discovery(new URL(baseUrl()), "tokendesk-example-app", undefined, client.None(), {
    algorithm: "oauth2",
    execute: [client.allowInsecureRequests], // the test server is plain http on loopback
  });
}

const verify = (token: string) =>
  jose.jwtVerify(token, jose.createRemoteJWKSet(new URL(`${baseUrl()}/.well-known/jwks.json`)), {
    issuer: baseUrl(),
    audience: "tokendesk",
    algorithms: ["ES256"],
  });

describe("a standard OAuth client", () => {
  it("discovers the server, exchanges, refreshes and revokes", async () => {
    const config = await discover();
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(baseUrl());
    expect(meta.token_endpoint).toBe(`${baseUrl()}/oauth/token`);
    expect(meta.grant_types_supported).toEqual(expect.arrayContaining([TOKEN_EXCHANGE, "refresh_token"]));

    const { key } = await mintKey(handle, { environment: "sandbox", region: "eu" });
    const user = await createUserOver(key, { email: "lin@example.test", name: "Lin" });
    const signInToken = await issueOver(key, user.user_id);

    const tokens = await client.genericGrantRequest(config, TOKEN_EXCHANGE, {
      subject_token: signInToken,
      subject_token_type: SIGN_IN_TOKEN_TYPE,
      installation_id: "openid-client-test-install",
    });
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toMatch(/^rt_/);
    expect(tokens.issued_token_type).toBe("urn:ietf:params:oauth:token-type:access_token");
    const { payload, protectedHeader } = await verify(tokens.access_token);
    expect(payload).toMatchObject({ sub: user.user_id, environment: "sandbox", region: "eu" });
    expect(typeof payload.sid).toBe("string");
    // The header names the key it was signed with, one the JWKS publishes.
    const published = (await (await fetch(`${baseUrl()}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(published.keys.map((k) => k.kid)).toContain(protectedHeader.kid);

    // A second exchange of the same sign-in token is refused with invalid_grant.
    const again = await client.genericGrantRequest(config, TOKEN_EXCHANGE, { subject_token: signInToken, subject_token_type: SIGN_IN_TOKEN_TYPE }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(again).toBeInstanceOf(client.ResponseBodyError);
    expect((again as client.ResponseBodyError).error).toBe("invalid_grant");

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await verify(refreshed.access_token)).payload.sid).toBe(payload.sid);

    await client.tokenRevocation(config, refreshed.refresh_token!);
    const afterRevoke = await client.refreshTokenGrant(config, refreshed.refresh_token!).then(
      () => null,
      (e: unknown) => e,
    );
    expect((afterRevoke as client.ResponseBodyError).error).toBe("invalid_grant");
    // The family is gone: the own-user endpoint refuses its live JWT at once.
    const me = await fetch(`${baseUrl()}/v2/user/${user.user_id}`, { headers: { Authorization: `Bearer ${refreshed.access_token}` } });
    expect(me.status).toBe(401);
  });

  it("keeps verifying tokens of the previous key after a rotation, and signs new ones with the new key", async () => {
    const config = await discover();
    const { key } = await mintKey(handle);
    const user = await createUserOver(key);
    const before = await client.genericGrantRequest(config, TOKEN_EXCHANGE, {
      subject_token: await issueOver(key, user.user_id),
      subject_token_type: SIGN_IN_TOKEN_TYPE,
    });
    const oldKid = jose.decodeProtectedHeader(before.access_token).kid;

    const { kid: newKid } = await rotateSigningKey(handle.db, systemActor("http test"), NO_REQUEST);
    expect(newKid).not.toBe(oldKid);
    // The server re-reads its keys by itself; poll what a resource server would see until the JWKS
    // publishes the new key. No deadline here: how soon is the machine's business, and a server
    // that never publishes it fails the test by its timeout.
    for (;;) {
      const jwks = (await (await fetch(`${baseUrl()}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
      if (jwks.keys.some((k) => k.kid === newKid)) {
        expect(jwks.keys.map((k) => k.kid)).toContain(oldKid);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const res = await refreshOver(before.refresh_token!);
    expect(res.status).toBe(200);
    expect(jose.decodeProtectedHeader(res.body.access_token).kid).toBe(newKid);
    // Fresh JWKS sets, as a resource server that starts now would have: both tokens verify.
    expect((await verify(before.access_token)).protectedHeader.kid).toBe(oldKid);
    expect((await verify(res.body.access_token)).protectedHeader.kid).toBe(newKid);
  });
});
