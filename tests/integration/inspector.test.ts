/**
 * The paste-a-JWT inspector (lib/inspector) on a real database: tokendesk's own device JWTs and
 * SDK access tokens are verified and their device/session/user status reported; foreign, forged
 * and malformed tokens are explained; nothing about the pasted token is written anywhere.
 */
import { eq } from "drizzle-orm";
import * as jose from "jose";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instances, revokedAccessTokens, sdkSessions, users } from "@/db/schema";
import { config } from "@/lib/config/env";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { createInstance, registerDevice, setDeviceDisabled } from "@/lib/devices";
import { DomainError } from "@/lib/errors";
import { inspectJwt } from "@/lib/inspector";
import { SDK_AUDIENCE, signJwt } from "@/lib/oauth/jwt";
import { clearSigningKeyCache } from "@/lib/oauth/signing-keys";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";

const system = systemActor("test");
const support: Actor = { type: "staff", id: "00000000-0000-4000-8000-000000000001", name: "support@test", role: "support" };
const auditor: Actor = { type: "staff", id: "00000000-0000-4000-8000-000000000002", name: "auditor@test", role: "auditor" };
const qa: Actor = { type: "staff", id: "00000000-0000-4000-8000-000000000003", name: "qa@test", role: "qa" };
const meta: RequestMeta = { requestId: "req-insp", ip: "198.51.100.9", userAgent: "vitest" };
const noFields = { UserFields: null, CustomToken: null, FirstName: null, LastName: null, Nickname: null, Phone: null, Email: null };

let t: TestDatabase;
beforeAll(async () => {
  clearSigningKeyCache();
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.close();
});

async function device(environment: "sandbox" | "production" = "sandbox", now?: Date) {
  const { instance } = await createInstance(t.db, system, { name: "Inspector fleet", environment }, meta);
  const [row] = await t.db.select().from(instances).where(eq(instances.id, instance.id));
  return registerDevice(t.db, row!, { ...noFields, UserFields: { ClientId: "insp" } }, meta, { now });
}

async function sdkUser(opts: { disabled?: boolean; sessionRevoked?: boolean } = {}) {
  const userId = uuidv7();
  const sessionId = uuidv7();
  await t.db
    .insert(users)
    .values({ id: userId, environment: "sandbox", region: "us", clientUserId: `u-${userId}`, disabledAt: opts.disabled ? new Date() : null });
  await t.db.insert(sdkSessions).values({
    id: sessionId,
    userId,
    environment: "sandbox",
    region: "us",
    expiresAt: new Date(Date.now() + 86_400_000),
    revokedAt: opts.sessionRevoked ? new Date() : null,
    revokeReason: opts.sessionRevoked ? "signed out by support" : null,
  });
  const jwt = await signJwt(t.db, { sid: sessionId, environment: "sandbox", region: "us" }, { audience: SDK_AUDIENCE, subject: userId, ttlSeconds: 3600 });
  return { userId, sessionId, jwt };
}

const labels = (r: { findings: Array<{ label: string }> }) => r.findings.map((f) => f.label);

describe("inspectJwt", () => {
  it("verifies a live device JWT and says the device is active", async () => {
    const reg = await device();
    const r = await inspectJwt(t.db, support, `Bearer ${reg.accessToken}`);
    expect(r.kind).toBe("device_jwt");
    expect(r.accepted).toBe(true);
    expect(r.signature.verified).toBe(true);
    expect(r.header).toMatchObject({ alg: "ES256", typ: "JWT" });
    expect(r.claims).toMatchObject({ sub: reg.deviceId, aud: "tokendesk-device", jti: reg.jti });
    expect(labels(r)).toEqual(["Signature valid", "Not expired", "Device active"]);
    expect(r.links).toEqual([{ label: "Open the device", href: `/devices/${reg.deviceId}` }]);
  });

  it("says 'Device disabled' for a disabled device and 'Expired' past exp, with the signature still verified", async () => {
    const reg = await device();
    await setDeviceDisabled(t.db, support, reg.deviceId, true, "lost phone", meta);
    const r = await inspectJwt(t.db, auditor, reg.accessToken);
    expect(r.accepted).toBe(false);
    expect(labels(r)).toContain("Device disabled");
    expect(r.summary).toMatch(/device disabled/);

    const old = await device("sandbox", new Date("2020-01-01T00:00:00Z"));
    const e = await inspectJwt(t.db, support, old.accessToken);
    expect(e.signature.verified).toBe(true);
    expect(e.expiry.expired).toBe(true);
    expect(labels(e)).toContain("Expired");
    expect(e.accepted).toBe(false);
  });

  it("reports SDK access tokens with their session and user status", async () => {
    const live = await sdkUser();
    const r = await inspectJwt(t.db, support, live.jwt.token);
    expect(r.kind).toBe("sdk_access_token");
    expect(r.accepted).toBe(true);
    expect(labels(r)).toEqual(["Signature valid", "Not expired", "Session active", "User active"]);

    expect(labels(await inspectJwt(t.db, support, (await sdkUser({ disabled: true })).jwt.token))).toContain("User disabled");
    expect(labels(await inspectJwt(t.db, support, (await sdkUser({ sessionRevoked: true })).jwt.token))).toContain("Session revoked");
    const revoked = await sdkUser();
    await t.db.insert(revokedAccessTokens).values({ jti: revoked.jwt.jti, expiresAt: new Date(revoked.jwt.exp * 1000) });
    const rr = await inspectJwt(t.db, support, revoked.jwt.token);
    expect(labels(rr)).toContain("Token revoked");
    expect(rr.accepted).toBe(false);
  });

  it("explains forged, foreign and malformed tokens instead of failing", async () => {
    const { privateKey } = await jose.generateKeyPair("ES256");
    const forged = await new jose.SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "not-ours" })
      .setIssuer(config().publicUrl)
      .setAudience("tokendesk-device")
      .setSubject(uuidv7())
      .setIssuedAt()
      .setExpirationTime("1h")
      .setJti("x")
      .sign(privateKey);
    const f = await inspectJwt(t.db, support, forged);
    expect(f.kind).toBe("device_jwt");
    expect(f.signature.verified).toBe(false);
    expect(f.signature.message).toMatch(/Not signed by any current tokendesk key/);
    expect(labels(f)).toContain("Signature not valid");

    const reg = await device();
    const [h, p] = reg.accessToken.split(".");
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: uuidv7() })).toString("base64url")}.${reg.accessToken.split(".")[2]}`;
    expect((await inspectJwt(t.db, support, tampered)).signature.verified).toBe(false);

    const foreign = await new jose.SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("https://api.example.com")
      .setExpirationTime("1h")
      .sign(new Uint8Array(32));
    const fo = await inspectJwt(t.db, support, foreign);
    expect(fo.kind).toBe("foreign_jwt");
    expect(labels(fo)).toContain("Not a tokendesk token");

    for (const junk of ["hello", "a.b.c", "a.b.c.d.e", reg.deviceToken, "eyJhbGciOiJub25lIn0.eyJzdWIiOjF9."]) {
      const j = await inspectJwt(t.db, support, junk);
      expect(j.accepted).toBe(false);
      expect(j.summary.length).toBeGreaterThan(10);
    }
    expect((await inspectJwt(t.db, support, reg.deviceToken)).summary).toMatch(/DeviceToken/);
    await expect(inspectJwt(t.db, support, "   ")).rejects.toBeInstanceOf(DomainError);
  });

  it("keeps QA out of production devices and writes nothing about the pasted token", async () => {
    const prod = await device("production");
    const before = await databaseDigest(t.db);
    const r = await inspectJwt(t.db, qa, prod.accessToken);
    expect(r.accepted).toBe(false);
    expect(labels(r)).toContain("Device in another environment");
    expect(r.links).toEqual([]);
    await expectUnchanged(t.db, before);
    await expect(inspectJwt(t.db, { type: "device", id: prod.deviceId, name: null }, prod.accessToken)).rejects.toMatchObject({ status: 403 });
  });
});
