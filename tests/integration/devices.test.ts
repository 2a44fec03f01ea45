/**
 * Telematics devices (lib/devices) on a real database: instances, registration, login, refresh
 * and JWT authentication; the inspector's search, device page and support actions. Expiry is
 * driven through the injectable `now`, never by waiting.
 */
import { randomBytes } from "node:crypto";
import { and, count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { auditEvents, deviceRefreshTokens, devices, instances } from "@/db/schema";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import {
  authenticateDeviceJwt,
  createInstance,
  DEVICE_LOGIN_LIMIT,
  getDeviceDetail,
  IP_LOGIN_FAILURE_LIMIT,
  listInstances,
  loginDevice,
  type RegistrationBody,
  refreshDeviceToken,
  registerDevice,
  revokeDeviceRefreshTokens,
  searchDevices,
  setDeviceDisabled,
} from "@/lib/devices";
import { DomainError } from "@/lib/errors";
import { decodeUnverified } from "@/lib/oauth/jwt";
import { clearSigningKeyCache } from "@/lib/oauth/signing-keys";
import { sweepExpiredLimits } from "@/lib/rate-limit";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";

const system = systemActor("test");
const staffOf = (role: "admin" | "support" | "qa" | "auditor"): Actor => ({
  type: "staff",
  id: `00000000-0000-4000-8000-00000000000${role.length}`,
  name: `${role}@test`,
  role,
});
let ipCounter = 0;
const meta = (ip: string | null = `198.51.100.${++ipCounter % 250}`): RequestMeta => ({ requestId: "req-dev", ip, userAgent: "vitest" });
const body = (b: Partial<RegistrationBody> = {}): RegistrationBody => ({
  UserFields: null,
  CustomToken: null,
  FirstName: null,
  LastName: null,
  Nickname: null,
  Phone: null,
  Email: null,
  ...b,
});

let t: TestDatabase;
beforeAll(async () => {
  clearSigningKeyCache();
  t = await createTestDatabase({ maxConnections: 30 });
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  ipCounter += 1;
});

async function newInstance(environment: "sandbox" | "production" = "sandbox", extra: { jwtTtlSeconds?: number; refreshTtlSeconds?: number } = {}) {
  const { instance, instanceKey } = await createInstance(t.db, system, { name: `Fleet ${Math.random()}`, environment, ...extra }, meta());
  const [row] = await t.db.select().from(instances).where(eq(instances.id, instance.id));
  return { instance, instanceKey, row: row! };
}

async function counts() {
  const [d] = await t.db.select({ n: count() }).from(devices);
  const [r] = await t.db.select({ n: count() }).from(deviceRefreshTokens);
  const [a] = await t.db.select({ n: count() }).from(auditEvents);
  const [i] = await t.db.select({ n: count() }).from(instances);
  return { devices: Number(d!.n), refresh: Number(r!.n), audit: Number(a!.n), instances: Number(i!.n) };
}

async function expectDomainError(p: Promise<unknown>, code: string, status: number): Promise<DomainError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe(code);
  expect((err as DomainError).status).toBe(status);
  return err as DomainError;
}

/** Everything the database holds, as text: a secret must never appear in it. */
async function dumpAll(): Promise<string> {
  const rows = await queryRows<{ j: string }>(
    t.db,
    sql`select coalesce((select json_agg(d)::text from devices d), '') || coalesce((select json_agg(r)::text from device_refresh_tokens r), '') || coalesce((select json_agg(a)::text from audit_events a), '') || coalesce((select json_agg(i)::text from instances i), '') || coalesce((select json_agg(l)::text from rate_limits l), '') as j`,
  );
  return rows[0]!.j;
}

describe("instances", () => {
  it("creates an instance with the default lifetimes, shows the key once and stores only its hash", async () => {
    const { instance, instanceKey, row } = await newInstance();
    expect(instance.jwtTtlSeconds).toBe(86_400);
    expect(instance.refreshTtlSeconds).toBe(90 * 86_400);
    expect(instanceKey).toMatch(/^ik_[0-9A-Za-z]{43}$/);
    expect(row.keyHash).not.toContain(instanceKey);
    expect(await dumpAll()).not.toContain(instanceKey);
    expect(JSON.stringify(instance)).not.toContain(row.keyHash);
    const [event] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "instance.created"), eq(auditEvents.targetId, instance.id)));
    expect(event?.environment).toBe("sandbox");
  });

  it("lets only admins create instances, and a refusal or bad input writes nothing", async () => {
    const before = await databaseDigest(t.db);
    await expectDomainError(createInstance(t.db, staffOf("support"), { name: "x", environment: "sandbox" }, meta()), "forbidden", 403);
    await expectDomainError(createInstance(t.db, system, { name: " ", environment: "sandbox" }, meta()), "validation_failed", 422);
    await expectDomainError(createInstance(t.db, system, { name: "x", environment: "staging" as never }, meta()), "validation_failed", 422);
    await expectDomainError(createInstance(t.db, system, { name: "x", environment: "sandbox", jwtTtlSeconds: 5 }, meta()), "validation_failed", 422);
    await expectUnchanged(t.db, before);
    const admin = await createInstance(t.db, staffOf("admin"), { name: "By admin", environment: "production", jwtTtlSeconds: 600 }, meta());
    expect(admin.instance.jwtTtlSeconds).toBe(600);
    expect((await listInstances(t.db, staffOf("admin"))).map((i) => i.id)).toContain(admin.instance.id);
  });
});

describe("registration, login, refresh", () => {
  it("registers a device: a 256-bit DeviceToken stored hashed, a device JWT and a refresh token", async () => {
    const { row } = await newInstance();
    const issued = await registerDevice(t.db, row, body({ UserFields: { ClientId: "client-reg-1" }, FirstName: "Jane", Email: "jane@example.com" }), meta());
    expect(issued.deviceToken).toMatch(/^dt_[0-9A-Za-z]{43}$/);
    expect(issued.refreshToken).toMatch(/^drt_[0-9A-Za-z]{43}$/);
    expect(issued.expiresIn).toBe(86_400);
    const { header, claims } = decodeUnverified(issued.accessToken);
    expect(header.alg).toBe("ES256");
    expect(claims).toMatchObject({ aud: "tokendesk-device", sub: issued.deviceId, instance_id: row.id, environment: "sandbox" });
    expect((claims.exp as number) - (claims.iat as number)).toBe(86_400);
    const dump = await dumpAll();
    expect(dump).not.toContain(issued.deviceToken);
    expect(dump).not.toContain(issued.refreshToken);
    expect(dump).not.toContain(issued.accessToken);
    const [device] = await t.db.select().from(devices).where(eq(devices.id, issued.deviceId));
    expect(device).toMatchObject({
      clientId: "client-reg-1",
      firstName: "Jane",
      email: "jane@example.com",
      deviceTokenPrefix: issued.deviceToken.slice(0, 11),
    });
    const { device: me } = await authenticateDeviceJwt(t.db, issued.accessToken);
    expect(me.id).toBe(issued.deviceId);
  });

  it("logs in with InstanceId + DeviceToken + InstanceKey and refuses a wrong key or unknown token, auditing the failure", async () => {
    const { row, instanceKey } = await newInstance();
    const other = await newInstance();
    const reg = await registerDevice(t.db, row, body({ UserFields: { ClientId: "client-login" } }), meta());
    const login = await loginDevice(t.db, { instanceId: row.id, deviceToken: reg.deviceToken, password: instanceKey }, meta());
    expect(login.deviceId).toBe(reg.deviceId);
    expect(login.refreshToken).not.toBe(reg.refreshToken);
    expect((await authenticateDeviceJwt(t.db, login.accessToken)).device.id).toBe(reg.deviceId);

    const before = await counts();
    await expectDomainError(
      loginDevice(t.db, { instanceId: row.id, deviceToken: reg.deviceToken, password: other.instanceKey }, meta()),
      "invalid_instance_key",
      401,
    );
    await expectDomainError(loginDevice(t.db, { instanceId: row.id, deviceToken: "dt_unknown", password: instanceKey }, meta()), "unknown_device_token", 401);
    // A DeviceToken of one instance does not log in on another, even with that instance's key.
    await expectDomainError(
      loginDevice(t.db, { instanceId: other.row.id, deviceToken: reg.deviceToken, password: other.instanceKey }, meta()),
      "unknown_device_token",
      401,
    );
    await expectDomainError(
      loginDevice(t.db, { instanceId: "not-a-uuid", deviceToken: reg.deviceToken, password: instanceKey }, meta()),
      "unknown_instance",
      401,
    );
    const after = await counts();
    expect({ ...after, audit: 0 }).toEqual({ ...before, audit: 0 });
    expect(after.audit - before.audit).toBe(4);
    const failed = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "device.login_failed"));
    expect(failed.map((e) => e.details.reason)).toEqual(expect.arrayContaining(["invalid_instance_key", "unknown_device_token", "unknown_instance"]));
  });

  it("limits logins per DeviceToken (every attempt) and per IP (failures), with a retry time", async () => {
    const { row, instanceKey } = await newInstance();
    const reg = await registerDevice(t.db, row, body(), meta());
    const now = new Date("2031-01-01T00:00:00Z");
    for (let i = 0; i < DEVICE_LOGIN_LIMIT.max; i++) {
      await loginDevice(t.db, { instanceId: row.id, deviceToken: reg.deviceToken, password: instanceKey }, meta(`192.0.2.${i + 1}`), { now });
    }
    const err = await expectDomainError(
      loginDevice(t.db, { instanceId: row.id, deviceToken: reg.deviceToken, password: instanceKey }, meta("192.0.2.99"), { now }),
      "rate_limited",
      429,
    );
    expect(err.extra.retryAfterSeconds).toBe(DEVICE_LOGIN_LIMIT.windowSeconds);
    // The window passes: the device logs in again.
    const later = new Date(now.getTime() + DEVICE_LOGIN_LIMIT.windowSeconds * 1000 + 1000);
    await loginDevice(t.db, { instanceId: row.id, deviceToken: reg.deviceToken, password: instanceKey }, meta("192.0.2.99"), { now: later });

    const ip = "203.0.113.250";
    for (let i = 0; i < IP_LOGIN_FAILURE_LIMIT.max; i++) {
      await expectDomainError(
        loginDevice(t.db, { instanceId: row.id, deviceToken: `dt_guess${i}`, password: instanceKey }, meta(ip), { now }),
        "unknown_device_token",
        401,
      );
    }
    const fresh = await registerDevice(t.db, row, body(), meta());
    await expectDomainError(
      loginDevice(t.db, { instanceId: row.id, deviceToken: fresh.deviceToken, password: instanceKey }, meta(ip), { now }),
      "rate_limited",
      429,
    );
    await loginDevice(t.db, { instanceId: row.id, deviceToken: fresh.deviceToken, password: instanceKey }, meta("203.0.113.251"), { now });
  });

  it("200 logins with made-up DeviceTokens leave a bounded number of rows, which the sweeper removes", async () => {
    const { row, instanceKey } = await newInstance();
    const now = new Date("2031-05-01T00:00:00Z");
    const tally = async () => {
      const [l] = await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from rate_limits`);
      const [a] = await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from audit_events where action = 'device.login_failed'`);
      return { limits: Number(l!.n), audit: Number(a!.n) };
    };
    const made = () => `dt_${randomBytes(32).toString("base64url")}`;
    const login = (ip: string | null) =>
      loginDevice(t.db, { instanceId: row.id, deviceToken: made(), password: instanceKey }, meta(ip), { now }).then(
        () => "logged in",
        (e: DomainError) => e.code,
      );
    const before = await tally();
    const fromOne: string[] = [];
    for (let i = 0; i < 200; i++) fromOne.push(await login("203.0.113.77"));
    // The address's failures fill its bucket; after that it is refused before any lookup.
    expect(fromOne.slice(0, IP_LOGIN_FAILURE_LIMIT.max).every((c) => c === "unknown_device_token")).toBe(true);
    expect(fromOne.slice(IP_LOGIN_FAILURE_LIMIT.max).every((c) => c === "rate_limited")).toBe(true);
    // With no client address there is no address to limit, and still no row per made-up token.
    for (let i = 0; i < 200; i++) expect(await login(null)).toBe("unknown_device_token");
    const after = await tally();
    // One bucket for the address, one event-sample bucket each for the address and for "no address".
    expect(after.limits - before.limits).toBeLessThanOrEqual(3);
    expect(after.audit - before.audit).toBe(2);
    const [sampled] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.login_failed"), eq(auditEvents.ip, "203.0.113.77")));
    expect(sampled!.details).toMatchObject({ reason: "unknown_device_token", failuresFromAddressInWindow: 1 });

    expect(await sweepExpiredLimits(t.db, new Date(now.getTime() + 3600_000))).toBeGreaterThanOrEqual(3);
    const left = await queryRows<{ key: string }>(t.db, sql`select key from rate_limits where key like '%203.0.113.77%' or key like '%unknown-address%'`);
    expect(left).toEqual([]);
  });

  it("refreshes with an expired JWT; the used token after the grace window is reuse and revokes the device's refresh tokens", async () => {
    const { row } = await newInstance("sandbox", { jwtTtlSeconds: 600 });
    const t0 = new Date("2031-02-01T00:00:00Z");
    const reg = await registerDevice(t.db, row, body(), meta(), { now: t0 });
    const t1 = new Date(t0.getTime() + 3600_000); // the JWT expired 50 minutes ago
    await expectDomainError(authenticateDeviceJwt(t.db, reg.accessToken, { now: t1 }), "token_expired", 401);

    const next = await refreshDeviceToken(t.db, { accessToken: reg.accessToken, refreshToken: reg.refreshToken }, meta(), { now: t1 });
    expect(next.expiresIn).toBe(600);
    expect((await authenticateDeviceJwt(t.db, next.accessToken, { now: t1 })).device.id).toBe(reg.deviceId);

    // The used token after the instance's grace window (10 s by default) is reuse.
    await expectDomainError(
      refreshDeviceToken(t.db, { accessToken: next.accessToken, refreshToken: reg.refreshToken }, meta(), { now: new Date(t1.getTime() + 10_001) }),
      "refresh_token_reused",
      401,
    );
    const [reuse] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.refresh_reuse_detected"), eq(auditEvents.targetId, reg.deviceId)));
    expect(reuse?.details.revokedRefreshTokens).toBe(1);
    // The newer refresh token was revoked with the rest: the device has to log in again.
    await expectDomainError(
      refreshDeviceToken(t.db, { accessToken: next.accessToken, refreshToken: next.refreshToken }, meta(), { now: t1 }),
      "refresh_token_revoked",
      401,
    );
  });

  it("refuses a refresh token past its lifetime, of another device, or with a forged JWT — without burning it", async () => {
    const { row } = await newInstance("sandbox", { refreshTtlSeconds: 3600 });
    const t0 = new Date("2031-03-01T00:00:00Z");
    const a = await registerDevice(t.db, row, body(), meta(), { now: t0 });
    const b = await registerDevice(t.db, row, body(), meta(), { now: t0 });
    await expectDomainError(
      refreshDeviceToken(t.db, { accessToken: a.accessToken, refreshToken: a.refreshToken }, meta(), { now: new Date(t0.getTime() + 7200_000) }),
      "refresh_token_expired",
      401,
    );
    await expectDomainError(
      refreshDeviceToken(t.db, { accessToken: a.accessToken, refreshToken: b.refreshToken }, meta(), { now: t0 }),
      "invalid_refresh_token",
      401,
    );
    const [h, p, s] = a.accessToken.split(".");
    const forged = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    await expectDomainError(refreshDeviceToken(t.db, { accessToken: forged, refreshToken: a.refreshToken }, meta(), { now: t0 }), "invalid_token", 401);
    await expectDomainError(refreshDeviceToken(t.db, { accessToken: "garbage", refreshToken: a.refreshToken }, meta(), { now: t0 }), "invalid_token", 401);
    // b's refresh token was not consumed by the attempt with a's JWT.
    await refreshDeviceToken(t.db, { accessToken: b.accessToken, refreshToken: b.refreshToken }, meta(), { now: t0 });
  });

  /** The device's refresh tokens a refresh would accept as the newest. */
  async function liveRefreshTokens(deviceId: string) {
    return t.db
      .select({ tokenHash: deviceRefreshTokens.tokenHash })
      .from(deviceRefreshTokens)
      .where(and(eq(deviceRefreshTokens.deviceId, deviceId), sql`used_at is null and replaced_at is null and revoked_at is null`));
  }

  it("a retry inside the grace window replaces the successor; the replaced one is reuse", async () => {
    const { row } = await newInstance();
    expect(row.refreshGraceSeconds).toBe(10);
    const t0 = new Date("2031-04-01T00:00:00Z");
    const reg = await registerDevice(t.db, row, body(), meta(), { now: t0 });
    const input = { accessToken: reg.accessToken, refreshToken: reg.refreshToken };
    const a1 = await refreshDeviceToken(t.db, input, meta(), { now: t0 });
    const b1 = await refreshDeviceToken(t.db, input, meta(), { now: new Date(t0.getTime() + 4_000) });
    expect(await liveRefreshTokens(reg.deviceId)).toHaveLength(1);
    await expectDomainError(
      refreshDeviceToken(t.db, { accessToken: a1.accessToken, refreshToken: a1.refreshToken }, meta(), { now: new Date(t0.getTime() + 5_000) }),
      "refresh_token_reused",
      401,
    );
    const [reuse] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.refresh_reuse_detected"), eq(auditEvents.targetId, reg.deviceId)));
    expect(reuse!.details).toMatchObject({ why: "replaced" });
    await expectDomainError(
      refreshDeviceToken(t.db, { accessToken: b1.accessToken, refreshToken: b1.refreshToken }, meta(), { now: new Date(t0.getTime() + 6_000) }),
      "refresh_token_revoked",
      401,
    );
  });

  it("50 parallel refreshes with one refresh token: all answered, one live pair, no reuse, the device refreshes on", async () => {
    const { row } = await newInstance();
    const reg = await registerDevice(t.db, row, body(), meta());
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => refreshDeviceToken(t.db, { accessToken: reg.accessToken, refreshToken: reg.refreshToken }, meta())),
    );
    const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(ok).toHaveLength(50);
    const live = await liveRefreshTokens(reg.deviceId);
    expect(live).toHaveLength(1);
    const [reuse] = await t.db
      .select({ n: count() })
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.refresh_reuse_detected"), eq(auditEvents.targetId, reg.deviceId)));
    expect(Number(reuse!.n)).toBe(0);
    const winner = ok.find((r) => hashSecret(r.refreshToken) === live[0]!.tokenHash)!;
    const next = await refreshDeviceToken(t.db, { accessToken: winner.accessToken, refreshToken: winner.refreshToken }, meta());
    expect((await authenticateDeviceJwt(t.db, next.accessToken)).device.id).toBe(reg.deviceId);
  });
});

describe("inspector: search, device page, support actions", () => {
  it("finds a device by DeviceToken, token prefix, ClientId, email and name; QA sees sandbox only", async () => {
    const sandbox = await newInstance("sandbox");
    const prod = await newInstance("production");
    const tag = `s${Date.now().toString(36)}`;
    const a = await registerDevice(
      t.db,
      sandbox.row,
      body({ UserFields: { ClientId: `${tag}-client-a` }, Email: `${tag}.alice@example.com`, FirstName: `${tag}Alice`, LastName: "Lidell" }),
      meta(),
    );
    const b = await registerDevice(t.db, prod.row, body({ UserFields: { ClientId: `${tag}-client-b` } }), meta());
    const ids = async (actor: Actor, q: string) => (await searchDevices(t.db, actor, { q })).devices.map((d) => d.id);
    expect(await ids(staffOf("support"), a.deviceToken)).toEqual([a.deviceId]);
    expect(await ids(staffOf("support"), a.deviceToken.slice(0, 11))).toEqual([a.deviceId]);
    expect(await ids(staffOf("support"), `${tag}-CLIENT`)).toEqual([b.deviceId, a.deviceId]);
    expect(await ids(staffOf("support"), `${tag}.alice@`)).toEqual([a.deviceId]);
    expect(await ids(staffOf("auditor"), `${tag}alice lid`)).toEqual([a.deviceId]);
    expect(await ids(staffOf("qa"), `${tag}-client`)).toEqual([a.deviceId]);
    expect(await ids(staffOf("support"), "100%_'; drop table devices; --")).toEqual([]);
    const found = (await searchDevices(t.db, staffOf("support"), { q: a.deviceToken })).devices[0]!;
    expect(JSON.stringify(found)).not.toMatch(/device_token_hash|deviceTokenHash/);
  });

  it("shows the device with its history and its most recently issued JWT, valid until it expires", async () => {
    const { row, instanceKey } = await newInstance("sandbox", { jwtTtlSeconds: 900 });
    const t0 = new Date("2031-04-01T00:00:00Z");
    const reg = await registerDevice(t.db, row, body({ UserFields: { ClientId: "detail-client" } }), meta(), { now: t0 });
    const login = await loginDevice(t.db, { instanceId: row.id, deviceToken: reg.deviceToken, password: instanceKey }, meta(), {
      now: new Date(t0.getTime() + 1000),
    });
    const refreshed = await refreshDeviceToken(t.db, { accessToken: login.accessToken, refreshToken: login.refreshToken }, meta(), {
      now: new Date(t0.getTime() + 2000),
    });
    const detail = await getDeviceDetail(t.db, staffOf("support"), reg.deviceId, { now: new Date(t0.getTime() + 3000) });
    expect(detail.device.clientId).toBe("detail-client");
    expect(detail.instance.id).toBe(row.id);
    expect(detail.history.map((e) => e.action)).toEqual(["device.token_refreshed", "device.login", "device.registered"]);
    expect(detail.currentJwt).toMatchObject({ status: "valid", accepted: true, issuedBy: "device.token_refreshed" });
    expect(detail.currentJwt!.claims).toMatchObject({ jti: refreshed.jti, exp: refreshed.exp, sub: reg.deviceId, aud: "tokendesk-device" });
    expect(detail.refreshTokens).toEqual({ live: 2, used: 1, revoked: 0, expired: 0 });
    const later = await getDeviceDetail(t.db, staffOf("auditor"), reg.deviceId, { now: new Date(t0.getTime() + 3600_000) });
    expect(later.currentJwt).toMatchObject({ status: "expired", accepted: false, expired: true });
  });

  it("disables a device at once with a reason (audited), and revokes its refresh tokens", async () => {
    const { row, instanceKey } = await newInstance("production");
    const reg = await registerDevice(t.db, row, body({ UserFields: { ClientId: "to-disable" } }), meta());
    const before = await databaseDigest(t.db);
    await expectDomainError(setDeviceDisabled(t.db, staffOf("support"), reg.deviceId, true, " ", meta()), "reason_required", 422);
    await expectDomainError(setDeviceDisabled(t.db, staffOf("auditor"), reg.deviceId, true, "looks stolen", meta()), "forbidden", 403);
    await expectDomainError(setDeviceDisabled(t.db, staffOf("qa"), reg.deviceId, true, "looks stolen", meta()), "forbidden", 403);
    await expectDomainError(getDeviceDetail(t.db, staffOf("qa"), reg.deviceId), "forbidden", 403);
    await expectDomainError(setDeviceDisabled(t.db, staffOf("support"), "nope", true, "looks stolen", meta()), "not_found", 404);
    await expectUnchanged(t.db, before);

    const view = await setDeviceDisabled(t.db, staffOf("support"), reg.deviceId, true, "Customer reported the phone stolen", meta());
    expect(view.disabled).toBe(true);
    await expectDomainError(authenticateDeviceJwt(t.db, reg.accessToken), "device_disabled", 401);
    await expectDomainError(refreshDeviceToken(t.db, { accessToken: reg.accessToken, refreshToken: reg.refreshToken }, meta()), "device_disabled", 401);
    await expectDomainError(loginDevice(t.db, { instanceId: row.id, deviceToken: reg.deviceToken, password: instanceKey }, meta()), "device_disabled", 401);
    const [event] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.disabled"), eq(auditEvents.targetId, reg.deviceId)));
    expect(event).toMatchObject({ reason: "Customer reported the phone stolen", actorName: "support@test", environment: "production" });
    expect((await getDeviceDetail(t.db, staffOf("admin"), reg.deviceId)).currentJwt?.status).toBe("device_disabled");

    await setDeviceDisabled(t.db, staffOf("admin"), reg.deviceId, false, "Phone found again", meta());
    expect((await authenticateDeviceJwt(t.db, reg.accessToken)).device.id).toBe(reg.deviceId);
    const { revoked } = await revokeDeviceRefreshTokens(t.db, staffOf("support"), reg.deviceId, "Rotating after the incident", meta());
    expect(revoked).toBe(1);
    await expectDomainError(refreshDeviceToken(t.db, { accessToken: reg.accessToken, refreshToken: reg.refreshToken }, meta()), "refresh_token_revoked", 401);
    const [rev] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.tokens_revoked"), eq(auditEvents.targetId, reg.deviceId)));
    expect(rev?.details.revokedRefreshTokens).toBe(1);
  });
});
