/**
 * The telematics family over HTTP against a real `next start` on PostgreSQL: every answer in the
 * Damoov envelope, field by field, for success and for each error; never a 500; nothing written on
 * bad input; 50 parallel refreshes with one refresh token leave the device one live pair, no reuse.
 *
 * Expired JWTs are minted here with signJwt and a past `now`, against the server's own database and
 * secret (vitest passes the same TOKENDESK_SECRET; PUBLIC_URL is set to the server's origin so the
 * issuer matches) — no waiting for anything to expire.
 */
import { randomInt } from "node:crypto";
import { and, count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { auditEvents, deviceRefreshTokens, devices } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { createInstance, DEVICE_LOGIN_LIMIT, setDeviceDisabled } from "@/lib/devices";
import { DEVICE_AUDIENCE, signJwt } from "@/lib/oauth/jwt";
import { changesSince, databaseDigest, expectUnchanged } from "../helpers/db-digest";
import { assertDocumented } from "../helpers/openapi";

const baseUrl = inject("baseUrl");
// Before anything reads the configuration: JWTs minted here must carry the server's issuer.
process.env.PUBLIC_URL = baseUrl;

let h: DatabaseHandle;
beforeAll(async () => {
  h = await openDatabase({ databaseUrl: inject("databaseUrl"), maxConnections: 4 });
});
afterAll(async () => {
  await h.close();
});

const ip = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function call(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown; raw?: string; from?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "X-Forwarded-For": opts.from ?? ip(), ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["Content-Type"] ??= "application/json";
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* asserted by expectEnvelope */
  }
  await assertDocumented(baseUrl, method, path, res.status, res.headers.get("content-type"), json); // as /openapi.json says
  return { status: res.status, headers: res.headers, text, json };
}

/** The envelope, field by field and in the vendor's order. */
function expectEnvelope(a: Answer, status: number) {
  expect(a.status, a.text).toBe(status);
  expect(a.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(a.json)).toEqual(["Result", "Status", "Title", "Errors"]);
  expect(a.json.Status).toBe(status);
  expect(a.json.Title).toBe("");
  expect(Array.isArray(a.json.Errors)).toBe(true);
}

function expectSuccess(a: Answer) {
  expectEnvelope(a, 200);
  expect(a.json.Errors).toEqual([]);
  return a.json.Result as Record<string, unknown>;
}

function expectError(a: Answer, status: number, key: string, message?: RegExp) {
  expectEnvelope(a, status);
  expect(a.json.Result).toBeNull();
  const errors = a.json.Errors as Array<Record<string, unknown>>;
  expect(errors).toHaveLength(1);
  expect(Object.keys(errors[0]!)).toEqual(["Key", "Message"]);
  expect(errors[0]!.Key).toBe(key);
  expect(typeof errors[0]!.Message).toBe("string");
  expect((errors[0]!.Message as string).length).toBeGreaterThan(10);
  if (message) expect(errors[0]!.Message).toMatch(message);
}

function expectTokens(result: Record<string, unknown>, withDeviceToken = true) {
  expect(Object.keys(result)).toEqual(withDeviceToken ? ["DeviceToken", "AccessToken", "RefreshToken"] : ["AccessToken", "RefreshToken"]);
  if (withDeviceToken) expect(result.DeviceToken).toMatch(/^dt_[0-9A-Za-z]{43}$/);
  const access = result.AccessToken as Record<string, unknown>;
  expect(Object.keys(access)).toEqual(["Token", "ExpiresIn"]);
  expect(access.Token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(typeof access.ExpiresIn).toBe("number");
  expect(result.RefreshToken).toMatch(/^drt_[0-9A-Za-z]{43}$/);
}

async function newInstance(jwtTtlSeconds?: number, refreshGraceSeconds?: number) {
  const { instance, instanceKey } = await createInstance(
    h.db,
    systemActor("http test"),
    { name: "HTTP fleet", environment: "sandbox", jwtTtlSeconds, refreshGraceSeconds },
    NO_REQUEST,
  );
  return { instanceId: instance.id, instanceKey };
}

async function register(inst: { instanceId: string; instanceKey: string }, body?: unknown) {
  const a = await call("POST", "/v1/Registration/create", { headers: { InstanceId: inst.instanceId, InstanceKey: inst.instanceKey }, body });
  const r = expectSuccess(a);
  return { deviceToken: r.DeviceToken as string, token: (r.AccessToken as { Token: string }).Token, refreshToken: r.RefreshToken as string };
}

const loginBody = (deviceToken: string, password: string) => ({ LoginFields: JSON.stringify({ Devicetoken: deviceToken }), Password: password });

describe("POST /v1/Registration/create", () => {
  it("registers a device with or without a body and answers DeviceToken, AccessToken {Token, ExpiresIn}, RefreshToken", async () => {
    const inst = await newInstance();
    const full = await call("POST", "/v1/Registration/create", {
      headers: { InstanceId: inst.instanceId, InstanceKey: inst.instanceKey },
      body: {
        UserFields: { ClientId: "http-client-1" },
        FirstName: "Ada",
        LastName: "Lovelace",
        Nickname: "ada",
        Phone: "+44 20 0000",
        Email: "ada@example.com",
        CustomToken: "ct-1",
      },
    });
    const result = expectSuccess(full);
    expectTokens(result);
    expect((result.AccessToken as { ExpiresIn: number }).ExpiresIn).toBe(86_400);
    expect(full.headers.get("cache-control")).toBe("no-store");
    const [row] = await h.db.select().from(devices).where(eq(devices.clientId, "http-client-1"));
    expect(row).toMatchObject({ firstName: "Ada", email: "ada@example.com", instanceId: inst.instanceId });
    expect(row!.deviceTokenHash).not.toContain(result.DeviceToken as string);

    expectTokens(expectSuccess(await call("POST", "/v1/Registration/create", { headers: { InstanceId: inst.instanceId, InstanceKey: inst.instanceKey } })));
  });

  it("refuses bad credentials and bad bodies in the envelope, writing nothing", async () => {
    const inst = await newInstance();
    const other = await newInstance();
    const before = await databaseDigest(h.db);
    const hdr = { InstanceId: inst.instanceId, InstanceKey: inst.instanceKey };
    expectError(await call("POST", "/v1/Registration/create", {}), 401, "InstanceId");
    expectError(await call("POST", "/v1/Registration/create", { headers: { InstanceId: inst.instanceId } }), 401, "InstanceKey");
    expectError(
      await call("POST", "/v1/Registration/create", { headers: { InstanceId: inst.instanceId, InstanceKey: other.instanceKey } }),
      401,
      "InstanceKey",
    );
    expectError(await call("POST", "/v1/Registration/create", { headers: { InstanceId: "not-a-uuid", InstanceKey: inst.instanceKey } }), 401, "InstanceId");
    expectError(
      await call("POST", "/v1/Registration/create", { headers: { InstanceId: other.instanceId, InstanceKey: inst.instanceKey } }),
      401,
      "InstanceKey",
    );
    expectError(await call("POST", "/v1/Registration/create", { headers: hdr, raw: "{not json" }), 400, "body");
    expectError(await call("POST", "/v1/Registration/create", { headers: hdr, raw: "[1,2]" }), 422, "body");
    expectError(await call("POST", "/v1/Registration/create", { headers: hdr, body: { UserFields: { ClientId: 42 } } }), 422, "UserFields.ClientId");
    expectError(await call("POST", "/v1/Registration/create", { headers: hdr, body: { UserFields: "x" } }), 422, "UserFields");
    expectError(await call("POST", "/v1/Registration/create", { headers: hdr, body: { Email: "not an email" } }), 422, "Email", /email/);
    expectError(await call("POST", "/v1/Registration/create", { headers: hdr, body: { FirstName: "x".repeat(121) } }), 422, "FirstName");
    expectError(await call("POST", "/v1/Registration/create", { headers: hdr, raw: JSON.stringify({ FirstName: "x".repeat(70_000) }) }), 413, "body");
    await expectUnchanged(h.db, before);
  });
});

describe("POST /v1/Auth/Login", () => {
  it("logs in with LoginFields as a JSON string and the InstanceKey as Password", async () => {
    const inst = await newInstance();
    const dev = await register(inst);
    const a = await call("POST", "/v1/Auth/Login", { headers: { InstanceId: inst.instanceId }, body: loginBody(dev.deviceToken, inst.instanceKey) });
    const result = expectSuccess(a);
    expectTokens(result);
    expect(result.DeviceToken).toBe(dev.deviceToken);
    expect(result.RefreshToken).not.toBe(dev.refreshToken);
  });

  it("answers 401 for a bad InstanceKey or unknown DeviceToken (audited, no tokens), 422 for malformed or wrong-case LoginFields (nothing written)", async () => {
    const inst = await newInstance();
    const other = await newInstance();
    const dev = await register(inst);
    const from = ip();
    const before = await databaseDigest(h.db);
    expectError(
      await call("POST", "/v1/Auth/Login", { from, headers: { InstanceId: inst.instanceId }, body: loginBody(dev.deviceToken, other.instanceKey) }),
      401,
      "Password",
    );
    expectError(
      await call("POST", "/v1/Auth/Login", { from, headers: { InstanceId: inst.instanceId }, body: loginBody(`dt_${"x".repeat(43)}`, inst.instanceKey) }),
      401,
      "LoginFields.Devicetoken",
    );
    expectError(
      await call("POST", "/v1/Auth/Login", { from, headers: { InstanceId: other.instanceId }, body: loginBody(dev.deviceToken, other.instanceKey) }),
      401,
      "LoginFields.Devicetoken",
    );
    expectError(await call("POST", "/v1/Auth/Login", { from, body: loginBody(dev.deviceToken, inst.instanceKey) }), 401, "InstanceId");
    // Failed logins are audited and counted against the limits, and write nothing else.
    const written = await changesSince(h.db, before);
    expect(written.map((c) => [c.table, c.added.length, c.removed])).toEqual([
      ["audit_events", 4, 0],
      ["rate_limits", expect.any(Number), expect.any(Number)],
    ]);
    const afterAuthFailures = await databaseDigest(h.db);
    const failed = await h.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.login_failed"), eq(auditEvents.ip, from)));
    expect(failed).toHaveLength(4);
    expect(JSON.stringify(failed, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(dev.deviceToken);

    const hdr = { InstanceId: inst.instanceId };
    expectError(
      await call("POST", "/v1/Auth/Login", {
        headers: hdr,
        body: { LoginFields: JSON.stringify({ DeviceToken: dev.deviceToken }), Password: inst.instanceKey },
      }),
      422,
      "LoginFields.Devicetoken",
      /"DeviceToken".*"Devicetoken"/,
    );
    expectError(
      await call("POST", "/v1/Auth/Login", {
        headers: hdr,
        body: { LoginFields: JSON.stringify({ devicetoken: dev.deviceToken }), Password: inst.instanceKey },
      }),
      422,
      "LoginFields.Devicetoken",
      /"devicetoken"/,
    );
    expectError(
      await call("POST", "/v1/Auth/Login", { headers: hdr, body: { LoginFields: `{"Devicetoken": "${dev.deviceToken}"`, Password: inst.instanceKey } }),
      422,
      "LoginFields",
      /not valid JSON/,
    );
    expectError(
      await call("POST", "/v1/Auth/Login", { headers: hdr, body: { LoginFields: { Devicetoken: dev.deviceToken }, Password: inst.instanceKey } }),
      422,
      "LoginFields",
      /string/,
    );
    expectError(await call("POST", "/v1/Auth/Login", { headers: hdr, body: { LoginFields: "[]", Password: inst.instanceKey } }), 422, "LoginFields");
    expectError(
      await call("POST", "/v1/Auth/Login", { headers: hdr, body: { LoginFields: JSON.stringify({ Devicetoken: 7 }), Password: inst.instanceKey } }),
      422,
      "LoginFields.Devicetoken",
    );
    expectError(
      await call("POST", "/v1/Auth/Login", { headers: hdr, body: { LoginFields: JSON.stringify({ Devicetoken: dev.deviceToken }) } }),
      422,
      "Password",
    );
    expectError(await call("POST", "/v1/Auth/Login", { headers: hdr, raw: "" }), 400, "body");
    await expectUnchanged(h.db, afterAuthFailures);
  });

  it("limits logins per DeviceToken with a 429 envelope and Retry-After", async () => {
    const inst = await newInstance();
    const dev = await register(inst);
    for (let i = 0; i < DEVICE_LOGIN_LIMIT.max; i++) {
      expectSuccess(await call("POST", "/v1/Auth/Login", { headers: { InstanceId: inst.instanceId }, body: loginBody(dev.deviceToken, inst.instanceKey) }));
    }
    // Every call above came from a different address: the count is the DeviceToken's.
    const limited = await call("POST", "/v1/Auth/Login", { headers: { InstanceId: inst.instanceId }, body: loginBody(dev.deviceToken, inst.instanceKey) });
    expectError(limited, 429, "LoginFields", /Too many login attempts/);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(DEVICE_LOGIN_LIMIT.windowSeconds);
  });

  it("limits failed logins per IP: after 30 failures even a good login from that IP gets 429", async () => {
    const inst = await newInstance();
    const dev = await register(inst);
    const from = ip();
    for (let i = 0; i < 30; i++) {
      expectError(
        await call("POST", "/v1/Auth/Login", { from, headers: { InstanceId: inst.instanceId }, body: loginBody(`dt_guess_${i}`, inst.instanceKey) }),
        401,
        "LoginFields.Devicetoken",
      );
    }
    const limited = await call("POST", "/v1/Auth/Login", {
      from,
      headers: { InstanceId: inst.instanceId },
      body: loginBody(dev.deviceToken, inst.instanceKey),
    });
    expectError(limited, 429, "LoginFields", /from this address/);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expectSuccess(await call("POST", "/v1/Auth/Login", { headers: { InstanceId: inst.instanceId }, body: loginBody(dev.deviceToken, inst.instanceKey) }));
  });
});

describe("POST /v1/Auth/RefreshToken and GET /v1/Devices/me", () => {
  it("refreshes an expired JWT; the used refresh token after the grace window answers 401 and revokes the device's refresh tokens", async () => {
    const inst = await newInstance(600);
    const dev = await register(inst);
    const [row] = await h.db
      .select()
      .from(devices)
      .where(eq(devices.deviceTokenPrefix, dev.deviceToken.slice(0, 11)));
    const expired = await signJwt(
      h.db,
      { instance_id: inst.instanceId, environment: "sandbox" },
      { audience: DEVICE_AUDIENCE, subject: row!.id, ttlSeconds: 600, now: new Date(Date.now() - 3600_000) },
    );

    const me = await call("GET", "/v1/Devices/me", { headers: { Authorization: `Bearer ${expired.token}` } });
    expectError(me, 401, "Authorization", /expired/);

    const refreshed = await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: expired.token, RefreshToken: dev.refreshToken } });
    const result = expectSuccess(refreshed);
    expectTokens(result, false);
    expect((result.AccessToken as { ExpiresIn: number }).ExpiresIn).toBe(600);
    const fresh = (result.AccessToken as { Token: string }).Token;
    const self = expectSuccess(await call("GET", "/v1/Devices/me", { headers: { Authorization: `Bearer ${fresh}` } }));
    expect(self).toMatchObject({ Id: row!.id, InstanceId: inst.instanceId });

    // The grace window closes (as if its seconds had passed): the used token again is reuse.
    await h.db
      .update(deviceRefreshTokens)
      .set({ graceUntil: new Date(Date.now() - 1000) })
      .where(eq(deviceRefreshTokens.tokenHash, hashSecret(dev.refreshToken)));
    const reused = await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: fresh, RefreshToken: dev.refreshToken } });
    expectError(reused, 401, "RefreshToken", /already used/);
    const [event] = await h.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.refresh_reuse_detected"), eq(auditEvents.targetId, row!.id)));
    expect(event?.outcome).toBe("denied");
    expectError(
      await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: fresh, RefreshToken: result.RefreshToken } }),
      401,
      "RefreshToken",
      /revoked/,
    );
  });

  it("refuses a forged or missing JWT and malformed bodies, writing nothing", async () => {
    const inst = await newInstance();
    const dev = await register(inst);
    const before = await databaseDigest(h.db);
    const forged = `${dev.token.slice(0, -6)}AAAAAA`;
    expectError(await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: forged, RefreshToken: dev.refreshToken } }), 401, "AccessToken");
    expectError(await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: "nonsense", RefreshToken: dev.refreshToken } }), 401, "AccessToken");
    expectError(await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: dev.token, RefreshToken: "drt_nope" } }), 401, "RefreshToken");
    expectError(await call("POST", "/v1/Auth/RefreshToken", { body: { RefreshToken: dev.refreshToken } }), 422, "AccessToken");
    expectError(await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: dev.token, RefreshToken: 5 } }), 422, "RefreshToken");
    expectError(await call("POST", "/v1/Auth/RefreshToken", { raw: "nope" }), 400, "body");
    expectError(await call("GET", "/v1/Devices/me"), 401, "Authorization");
    expectError(await call("GET", "/v1/Devices/me", { headers: { Authorization: `Bearer ${forged}` } }), 401, "Authorization");
    expectError(await call("GET", "/v1/Devices/me", { headers: { Authorization: dev.token } }), 401, "Authorization");
    await expectUnchanged(h.db, before);
    // The refresh token survived all of that.
    expectSuccess(await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: dev.token, RefreshToken: dev.refreshToken } }));
  });

  it("answers 401 at once for a disabled device, with a JWT that has not expired", async () => {
    const inst = await newInstance();
    const dev = await register(inst, { UserFields: { ClientId: "http-disable-me" } });
    expectSuccess(await call("GET", "/v1/Devices/me", { headers: { Authorization: `Bearer ${dev.token}` } }));
    const [row] = await h.db.select().from(devices).where(eq(devices.clientId, "http-disable-me"));
    await setDeviceDisabled(h.db, systemActor("http test"), row!.id, true, "http test", NO_REQUEST);
    expectError(await call("GET", "/v1/Devices/me", { headers: { Authorization: `Bearer ${dev.token}` } }), 401, "Authorization", /disabled/);
    expectError(
      await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: dev.token, RefreshToken: dev.refreshToken } }),
      401,
      "AccessToken",
      /disabled/,
    );
    expectError(
      await call("POST", "/v1/Auth/Login", { headers: { InstanceId: inst.instanceId }, body: loginBody(dev.deviceToken, inst.instanceKey) }),
      401,
      "LoginFields.Devicetoken",
      /disabled/,
    );
  });

  it("50 parallel refreshes with one refresh token: all 200, the last pair is the one live pair, no reuse; a replaced one is reuse", async () => {
    // A wide grace window, so a slow machine cannot push the 50 past it.
    const inst = await newInstance(undefined, 300);
    const dev = await register(inst);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: dev.token, RefreshToken: dev.refreshToken } })),
    );
    const results = answers.map(expectSuccess);
    const [row] = await h.db
      .select()
      .from(devices)
      .where(eq(devices.deviceTokenPrefix, dev.deviceToken.slice(0, 11)));
    const live = await h.db
      .select({ tokenHash: deviceRefreshTokens.tokenHash })
      .from(deviceRefreshTokens)
      .where(and(eq(deviceRefreshTokens.deviceId, row!.id), sql`used_at is null and replaced_at is null and revoked_at is null`));
    expect(live).toHaveLength(1);
    const [reuse] = await h.db
      .select({ n: count() })
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "device.refresh_reuse_detected"), eq(auditEvents.targetId, row!.id)));
    expect(Number(reuse!.n)).toBe(0);
    const winner = results.find((r) => hashSecret(r.RefreshToken as string) === live[0]!.tokenHash)!;
    const loser = results.find((r) => r !== winner)!;
    const token = (r: Record<string, unknown>) => (r.AccessToken as { Token: string }).Token;
    const next = expectSuccess(await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: token(winner), RefreshToken: winner.RefreshToken } }));
    expectSuccess(await call("GET", "/v1/Devices/me", { headers: { Authorization: `Bearer ${token(next)}` } }));
    // A replaced pair's refresh token is reuse: the device's refresh tokens end.
    expectError(
      await call("POST", "/v1/Auth/RefreshToken", { body: { AccessToken: token(loser), RefreshToken: loser.RefreshToken } }),
      401,
      "RefreshToken",
      /already used/,
    );
  });
});

describe("the rest of /v1", () => {
  it("answers unknown paths and wrong methods in the envelope, never with a 500 or HTML", async () => {
    expectError(await call("GET", "/v1/Nope"), 404, "path");
    expectError(await call("POST", "/v1/Devices/list", { body: {} }), 404, "path");
    const wrong = await call("GET", "/v1/Auth/Login");
    expectError(wrong, 405, "method");
    expect(wrong.headers.get("allow")).toBe("POST");
    expectError(await call("DELETE", "/v1/Devices/me"), 405, "method");
    const garbage = ["", "null", "1", '"x"', "{}", '{"LoginFields":null}', "\u0000", "{".repeat(5000)];
    for (const raw of garbage) {
      for (const path of ["/v1/Auth/Login", "/v1/Auth/RefreshToken", "/v1/Registration/create"]) {
        const a = await call("POST", path, { raw, headers: { "Content-Type": "text/plain" } });
        expect(a.status, `${path} ${raw.slice(0, 20)}`).toBeGreaterThanOrEqual(400);
        expect(a.status).toBeLessThan(500);
        expectEnvelope(a, a.status);
      }
    }
  });
});
