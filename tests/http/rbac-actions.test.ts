/**
 * The server-action half of the RBAC matrix (e2e/rbac-matrix.ts ACTIONS), against the production
 * build on PostgreSQL: every action is posted as admin, support, qa, auditor and with no session,
 * on sandbox and on production data where the environment matters, the way a browser (or a crafted
 * request) posts it. The expected answer is the matrix's literal cell, never `can()`:
 *  - "ok": the action answers ok and the database shows what it did;
 *  - a refusal: the action's own refusal, and a digest of every table equal to the one before.
 * Each cell gets fresh data, seeded straight into the database.
 */
import { randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import {
  apiKeys,
  auditEvents,
  deviceRefreshTokens,
  devices,
  environmentSettings,
  idvSessions,
  instances,
  sdkSessions,
  securitySettings,
  signInTokens,
  signingKeys,
  staff,
  staffChallenges,
  staffPasskeys,
  staffRecoveryCodes,
  users,
  webhookDeliveries,
  webhookEndpoints,
  workflows,
} from "@/db/schema";
import { createApiKey } from "@/lib/api-keys";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { hashSecret, sealSecret } from "@/lib/crypto/keys";
import { createInstance } from "@/lib/devices";
import { issueHandoff } from "@/lib/idv/handoff";
import { createWorkflow } from "@/lib/idv/workflows";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { beginPasskeyEnrolment, beginTotpEnrolment, getSecuritySettings, startSecondStep } from "@/lib/staff/second-factor";
import { createStaff } from "@/lib/staff/staff";
import { createUser } from "@/lib/users";
import { sendTestEvent } from "@/lib/webhooks/deliveries";
import { createWebhookEndpoint } from "@/lib/webhooks/endpoints";
import { ACTIONS, type ActionEntry, WHO, type Who } from "../../e2e/rbac-matrix";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";
import { baseUrl, call, openTestDb, uniq } from "../helpers/machine-api";
import { type ActionAnswer, type ActionReply, callAction, staffCookie } from "../helpers/server-action";
import { softwarePasskeyRegistration } from "../helpers/webauthn";

type Env = "sandbox" | "production";
const system = systemActor("rbac matrix");
const PASSWORD = "rbac matrix password 0123";

let handle: DatabaseHandle;
let workflowId: string;
const cookies = {} as Record<Who, string>;
const staffIds = {} as Record<Exclude<Who, "out">, string>;

beforeAll(async () => {
  handle = await openTestDb();
  workflowId = (await createWorkflow(handle.db, system, { name: uniq("rbac workflow"), steps: ["selfie"] }, NO_REQUEST)).id;
  for (const role of ["admin", "support", "qa", "auditor"] as const) {
    const email = `${uniq(`rbac-${role}`)}@matrix.test`;
    staffIds[role] = (await createStaff(handle.db, system, { email, role, password: PASSWORD }, NO_REQUEST)).id;
    cookies[role] = await staffCookie(baseUrl(), email, PASSWORD, { "X-Forwarded-For": `198.51.100.${WHO.indexOf(role) + 10}` });
  }
  cookies.out = "";
});
afterAll(async () => {
  await handle?.close();
});

// ------------------------------------------------------------------------------------------------
// Seeding: what each action acts on, created by the system actor straight into the database.
// ------------------------------------------------------------------------------------------------

async function seedUser(env: Env) {
  const clientUserId = uniq("rbac-user");
  const user = await createUser(handle.db, system, { client_user_id: clientUserId, name: "Rbac Target", environment: env, region: "us" }, NO_REQUEST);
  return { id: user.id, clientUserId };
}

async function seedSession(env: Env) {
  const user = await seedUser(env);
  const { signInToken } = await issueSignInToken(handle.db, system, user.id, { reason: "rbac matrix" }, NO_REQUEST);
  await exchangeSignInToken(handle.db, { signInToken, installationId: uniq("rbac-install") }, NO_REQUEST);
  const [session] = await handle.db.select().from(sdkSessions).where(eq(sdkSessions.userId, user.id));
  return { user, sessionId: session!.id };
}

/** A device registered over the API, so its JWT carries this server's issuer. */
async function seedDevice(env: Env) {
  const { instance, instanceKey } = await createInstance(handle.db, system, { name: uniq("rbac instance"), environment: env }, NO_REQUEST);
  const res = await call("/v1/Registration/create", {
    headers: { InstanceId: instance.id, InstanceKey: instanceKey },
    json: { UserFields: { ClientId: uniq("rbac-device") } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const { DeviceToken, AccessToken } = res.body.Result as { DeviceToken: string; AccessToken: { Token: string } };
  const [row] = await handle.db
    .select()
    .from(devices)
    .where(eq(devices.deviceTokenHash, hashSecret(DeviceToken)));
  return { id: row!.id, deviceToken: DeviceToken, jwt: AccessToken.Token };
}

async function seedStaff() {
  const email = `${uniq("rbac-target")}@matrix.test`;
  return createStaff(handle.db, system, { email, role: "support", password: PASSWORD }, NO_REQUEST);
}

let signIns = 0;
/** A fresh member of `who`'s role (support for "out"), signed in unless "out": for actions on one's own account. */
async function member(who: Who) {
  const email = `${uniq(`rbac-self-${who}`)}@matrix.test`;
  const role = who === "out" ? "support" : who;
  const row = await createStaff(handle.db, system, { email, role, password: PASSWORD }, NO_REQUEST);
  const cookie = who === "out" ? "" : await staffCookie(baseUrl(), email, PASSWORD, { "X-Forwarded-For": `198.51.100.${100 + (signIns++ % 100)}` });
  const actor: Actor = { type: "staff", id: row.id, name: email, role };
  return { id: row.id, email, cookie, actor };
}

/** A passkey on record for a member (its key is never used: it only has to exist). */
async function seedPasskey(staffId: string): Promise<string> {
  const id = randomBytes(16).toString("base64url");
  await handle.db.insert(staffPasskeys).values({ id, staffId, name: "rbac seeded", publicKey: Buffer.from([0]), counter: 0, transports: [] });
  return id;
}

/** A member with a passkey who typed the right password: the ticket of their second step. */
async function ticketOf() {
  const target = await seedStaff();
  const passkeyId = await seedPasskey(target.id);
  const [row] = await handle.db.select().from(staff).where(eq(staff.id, target.id));
  const second = await startSecondStep(handle.db, row!);
  return { ticket: second!.ticket, email: target.email, staffId: target.id, passkeyId };
}

const SECURITY = "app/(console)/security/actions.ts";

// ------------------------------------------------------------------------------------------------
// Drivers: per action, the page that posts it, the fields, and what "ok" must have changed.
// ------------------------------------------------------------------------------------------------

interface Prepared {
  page: string;
  fields: Record<string, string>;
  shape?: "state" | "form";
  /** Plain arguments instead of a form (an action the page calls from code). */
  args?: unknown[];
  /** The session an allowed cell posts with, when the action acts on the caller's own account. */
  as?: string;
  /** For "ticket" cells: the same call with a ticket that is not live, and its answer. */
  withoutTicket?: { args: unknown[]; refused(reply: ActionReply): void };
  /** For an "ok" cell: what the action must have done. */
  done(reply: ActionReply, who: Who): Promise<void>;
  /** For a "hidden" cell: what the answer must (not) reveal. */
  hidden?(reply: ActionReply): void;
}

type Driver = (env: Env, who: Who) => Promise<Prepared>;

function okAnswer(reply: ActionReply): Extract<ActionAnswer, { ok: true }> {
  expect(reply.answer, `the action answered ${JSON.stringify(reply)}`).toMatchObject({ ok: true });
  return reply.answer as Extract<ActionAnswer, { ok: true }>;
}

const settingsFields = async (env: Env, grace: number) => {
  const [s] = await handle.db.select().from(environmentSettings).where(eq(environmentSettings.environment, env));
  return {
    environment: env,
    signInTokenTtlSeconds: String(s?.signInTokenTtlSeconds ?? 600),
    accessTokenTtlSeconds: String(s?.accessTokenTtlSeconds ?? 3600),
    refreshAbsoluteTtlSeconds: String(s?.refreshAbsoluteTtlSeconds ?? 365 * 86_400),
    refreshGraceSeconds: String(grace),
  };
};

/**
 * A webhook endpoint for a driver. It listens to an event no test here causes (migration.rejected)
 * and every driver removes what it made once checked, so the server's dispatcher never has a
 * delivery to work on while another cell compares the database before and after.
 */
async function seedEndpoint(env: Env) {
  const { endpoint } = await createWebhookEndpoint(
    handle.db,
    system,
    { url: `https://hooks.example.com/${uniq("rbac")}`, environment: env, eventTypes: ["migration.rejected"] },
    NO_REQUEST,
  );
  return endpoint;
}

async function dropEndpoint(id: string) {
  await handle.db.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id));
  await handle.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
}

const DRIVERS: Record<string, Driver> = {
  async createApiKeyAction(env) {
    const name = uniq("rbac key");
    return {
      page: "/api-keys",
      fields: { name, environment: env, region: "us", "scope:all": "on" },
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(apiKeys).where(eq(apiKeys.name, name));
        expect(rows.map((r) => r.environment)).toEqual([env]);
      },
    };
  },
  async revokeApiKeyAction(env) {
    const { key, apiKey } = await createApiKey(
      handle.db,
      system,
      { name: uniq("rbac key"), environment: env, region: "us", scopes: ["users:read"] },
      NO_REQUEST,
    );
    // Used once over the machine API: the server now has it verified (lib/api-keys remembers keys
    // for a few seconds). Its last use is stamped asynchronously: wait for it, so that nothing
    // changes behind a refused case's database digest.
    expect((await call("/v2/users?limit=1", { key })).status).toBe(200);
    for (let i = 0; i < 100; i++) {
      const [row] = await handle.db.select({ at: apiKeys.lastUsedAt }).from(apiKeys).where(eq(apiKeys.id, apiKey.id));
      if (row?.at) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      page: "/api-keys",
      fields: { id: apiKey.id, reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
        expect(row!.revokedAt).toBeInstanceOf(Date);
        // The console's revocation (Next's copy of lib/api-keys) made the machine API forget the key
        // it had verified: the very next call is refused.
        const after = await call("/v2/users?limit=1", { key });
        expect({ status: after.status, code: after.body?.error?.code }).toEqual({ status: 401, code: "invalid_api_key" });
      },
    };
  },
  async verifyAuditAction() {
    return {
      page: "/audit",
      fields: {},
      async done(reply) {
        const answer = okAnswer(reply);
        expect(answer.data).toMatchObject({ ok: true });
        expect((answer.data as { problem?: unknown }).problem ?? null).toBeNull();
      },
    };
  },
  async findDeviceAction(env) {
    const device = await seedDevice(env);
    return {
      page: "/devices",
      shape: "form",
      fields: { q: device.deviceToken },
      async done(reply) {
        expect(reply.redirect).toBe(`/devices/${device.id}`);
      },
      hidden(reply) {
        expect(reply.redirect).toBe(`/devices?${new URLSearchParams({ q: device.deviceToken.slice(0, 11), token: "none" })}`);
      },
    };
  },
  async setDeviceDisabledAction(env) {
    const device = await seedDevice(env);
    return {
      page: `/devices/${device.id}`,
      fields: { id: device.id, disabled: "true", reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(devices).where(eq(devices.id, device.id));
        expect(row!.disabledAt).toBeInstanceOf(Date);
      },
    };
  },
  async revokeDeviceTokensAction(env) {
    const device = await seedDevice(env);
    return {
      page: `/devices/${device.id}`,
      fields: { id: device.id, reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const live = await handle.db
          .select()
          .from(deviceRefreshTokens)
          .where(and(eq(deviceRefreshTokens.deviceId, device.id), isNull(deviceRefreshTokens.revokedAt)));
        expect(live).toEqual([]);
      },
    };
  },
  async issueHandoffAction(env) {
    const externalUserId = uniq("rbac-handoff");
    return {
      page: "/handoffs",
      fields: { externalUserId, environment: env, workflowId, ttl: "3600", reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(idvSessions).where(eq(idvSessions.externalUserId, externalUserId));
        expect(rows.map((r) => [r.environment, r.status])).toEqual([[env, "created"]]);
      },
    };
  },
  async cancelHandoffAction(env) {
    const h = await issueHandoff(
      handle.db,
      system,
      baseUrl(),
      { externalUserId: uniq("rbac-handoff"), environment: env, workflowId, ttl: 3600, reason: "rbac" },
      NO_REQUEST,
    );
    return {
      page: `/handoffs/${h.session.id}`,
      fields: { id: h.session.id, reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(idvSessions).where(eq(idvSessions.id, h.session.id));
        expect(row!.status).toBe("cancelled");
      },
    };
  },
  async inspectJwtAction(env) {
    const device = await seedDevice(env);
    return {
      page: "/inspector",
      fields: { token: device.jwt },
      async done(reply) {
        const answer = okAnswer(reply);
        expect(JSON.stringify(answer.data)).toContain(`/devices/${device.id}`);
      },
      hidden(reply) {
        const answer = okAnswer(reply);
        const text = JSON.stringify(answer.data);
        expect(text).toContain("Device in another environment");
        expect(text).not.toContain(`/devices/${device.id}`);
      },
    };
  },
  async createInstanceAction(env) {
    const name = uniq("rbac instance");
    return {
      page: "/instances",
      fields: { name, environment: env },
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(instances).where(eq(instances.name, name));
        expect(rows.map((r) => r.environment)).toEqual([env]);
      },
    };
  },
  async updateSettingsAction(env) {
    const [before] = await handle.db.select().from(environmentSettings).where(eq(environmentSettings.environment, env));
    const grace = (before?.refreshGraceSeconds ?? 10) + 1;
    return {
      page: "/settings",
      fields: await settingsFields(env, grace),
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(environmentSettings).where(eq(environmentSettings.environment, env));
        expect(row!.refreshGraceSeconds).toBe(grace);
        // Other files share this server: put the grace window back.
        await handle.db
          .update(environmentSettings)
          .set({ refreshGraceSeconds: grace - 1 })
          .where(eq(environmentSettings.environment, env));
      },
    };
  },
  async rotateSigningKeyAction() {
    const [current] = await handle.db.select().from(signingKeys).where(eq(signingKeys.status, "current"));
    return {
      page: "/settings",
      fields: { confirm: "rotate" },
      async done(reply) {
        const answer = okAnswer(reply);
        const [now] = await handle.db.select().from(signingKeys).where(eq(signingKeys.status, "current"));
        expect(now!.kid).toBe(answer.data);
        expect(now!.kid).not.toBe(current?.kid);
      },
    };
  },
  async createStaffAction() {
    const email = `${uniq("rbac-new")}@matrix.test`;
    return {
      page: "/staff",
      fields: { email, role: "support", password: PASSWORD },
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(staff).where(eq(staff.email, email));
        expect(rows.map((r) => r.role)).toEqual(["support"]);
      },
    };
  },
  async changeRoleAction() {
    const target = await seedStaff();
    return {
      page: "/staff",
      fields: { id: target.id, role: "auditor" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(staff).where(eq(staff.id, target.id));
        expect(row!.role).toBe("auditor");
      },
    };
  },
  async setDisabledAction() {
    const target = await seedStaff();
    return {
      page: "/staff",
      fields: { id: target.id, disabled: "true", reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(staff).where(eq(staff.id, target.id));
        expect(row!.disabledAt).toBeInstanceOf(Date);
      },
    };
  },
  async resetPasswordAction() {
    const target = await seedStaff();
    const [was] = await handle.db.select().from(staff).where(eq(staff.id, target.id));
    return {
      page: "/staff",
      fields: { id: target.id, password: "a different long password" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(staff).where(eq(staff.id, target.id));
        expect(row!.passwordHash).not.toBe(was!.passwordHash);
      },
    };
  },
  async issueSignInTokenAction(env) {
    const user = await seedUser(env);
    return {
      page: `/users/${user.id}`,
      fields: { userId: user.id, reason: "rbac matrix" },
      async done(reply, who) {
        okAnswer(reply);
        const rows = await handle.db.select().from(signInTokens).where(eq(signInTokens.userId, user.id));
        expect(rows.map((r) => [r.issuedByType, r.issuedById, r.reason])).toEqual([["staff", staffIds[who as Exclude<Who, "out">], "rbac matrix"]]);
      },
    };
  },
  async createUserAction(env) {
    const clientUserId = uniq("rbac-created");
    return {
      page: "/users",
      fields: { client_user_id: clientUserId, environment: env, region: "us", name: "Rbac Created", email: "" },
      async done(reply, who) {
        const id = okAnswer(reply).data as string;
        const rows = await handle.db.select().from(users).where(eq(users.clientUserId, clientUserId));
        expect(rows.map((r) => [r.id, r.environment, r.name, r.email])).toEqual([[id, env, "Rbac Created", null]]);
        const [event] = await handle.db
          .select()
          .from(auditEvents)
          .where(and(eq(auditEvents.action, "user.created"), eq(auditEvents.targetId, id)));
        expect([event!.actorType, event!.actorId]).toEqual(["staff", staffIds[who as Exclude<Who, "out">]]);
      },
    };
  },
  async updateUserAction(env) {
    const user = await seedUser(env);
    return {
      page: `/users/${user.id}`,
      fields: { userId: user.id, name: "Rbac Renamed", email: "renamed@matrix.test", reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(users).where(eq(users.id, user.id));
        expect([row!.name, row!.email]).toEqual(["Rbac Renamed", "renamed@matrix.test"]);
      },
    };
  },
  async setUserDisabledAction(env) {
    const user = await seedUser(env);
    return {
      page: `/users/${user.id}`,
      fields: { userId: user.id, disabled: "true", reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(users).where(eq(users.id, user.id));
        expect(row!.disabledAt).toBeInstanceOf(Date);
      },
    };
  },
  async deleteUserAction(env) {
    const user = await seedUser(env);
    return {
      page: `/users/${user.id}`,
      fields: { userId: user.id, reason: "rbac matrix", confirm: user.clientUserId },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(users).where(eq(users.id, user.id));
        expect(row!.deletedAt).toBeInstanceOf(Date);
      },
    };
  },
  async revokeSessionAction(env) {
    const { user, sessionId } = await seedSession(env);
    return {
      page: `/users/${user.id}`,
      fields: { userId: user.id, sessionId, reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(sdkSessions).where(eq(sdkSessions.id, sessionId));
        expect(row!.revokedAt).toBeInstanceOf(Date);
      },
    };
  },
  async revokeAllSessionsAction(env) {
    const { user, sessionId } = await seedSession(env);
    return {
      page: `/users/${user.id}`,
      fields: { userId: user.id, reason: "rbac matrix" },
      async done(reply) {
        expect(okAnswer(reply).data).toBe("1");
        const [row] = await handle.db.select().from(sdkSessions).where(eq(sdkSessions.id, sessionId));
        expect(row!.revokedAt).toBeInstanceOf(Date);
      },
    };
  },
  async revokeSignInTokenAction(env) {
    const user = await seedUser(env);
    const { tokenId } = await issueSignInToken(handle.db, system, user.id, { reason: "rbac matrix" }, NO_REQUEST);
    return {
      page: `/users/${user.id}`,
      fields: { userId: user.id, tokenId, reason: "rbac matrix" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(signInTokens).where(eq(signInTokens.id, tokenId));
        expect(row!.revokedAt).toBeInstanceOf(Date);
      },
    };
  },
  // Every member's own second factors (/security): each allowed cell acts as a fresh member of
  // that role, signed in before the factor exists (a password sign-in would then ask for it).
  async beginTotpAction(_env, who) {
    const m = await member(who);
    return {
      page: "/security",
      fields: {},
      as: m.cookie,
      async done(reply) {
        const { challengeId } = okAnswer(reply).data as { challengeId: string };
        const rows = await handle.db.select().from(staffChallenges).where(eq(staffChallenges.staffId, m.id));
        expect(rows.map((r) => [r.id, r.purpose])).toEqual([[challengeId, "totp_enrol"]]);
      },
    };
  },
  async confirmTotpAction(_env, who) {
    const m = await member(who);
    const { challengeId, secret } = await beginTotpEnrolment(handle.db, m.actor);
    return {
      page: "/security",
      fields: { challengeId, code: await generate({ secret }) },
      as: m.cookie,
      async done(reply) {
        expect((okAnswer(reply).data as { recoveryCodes: string[] }).recoveryCodes).toHaveLength(10);
        const [row] = await handle.db.select().from(staff).where(eq(staff.id, m.id));
        expect(row!.totpEnabledAt).toBeInstanceOf(Date);
      },
    };
  },
  async removeTotpAction(_env, who) {
    const m = await member(who);
    await handle.db
      .update(staff)
      .set({ totpSecretEncrypted: sealSecret("staff-totp", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), totpEnabledAt: new Date() })
      .where(eq(staff.id, m.id));
    return {
      page: "/security",
      fields: {},
      as: m.cookie,
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(staff).where(eq(staff.id, m.id));
        expect([row!.totpSecretEncrypted, row!.totpEnabledAt]).toEqual([null, null]);
      },
    };
  },
  async beginPasskeyAction(_env, who) {
    const m = await member(who);
    return {
      page: "/security",
      fields: {},
      as: m.cookie,
      async done(reply) {
        const { challengeId, options } = okAnswer(reply).data as { challengeId: string; options: { challenge: string } };
        const rows = await handle.db.select().from(staffChallenges).where(eq(staffChallenges.staffId, m.id));
        expect(rows.map((r) => [r.id, r.purpose, r.webauthnChallenge])).toEqual([[challengeId, "passkey_enrol", options.challenge]]);
      },
    };
  },
  async finishPasskeyAction(_env, who) {
    const m = await member(who);
    // The enrolment's options as the server makes them (its relying party is its PUBLIC_URL).
    const begun = m.cookie
      ? (okAnswer(await callAction(baseUrl(), m.cookie, { file: SECURITY, name: "beginPasskeyAction", page: "/security", fields: {} })).data as {
          challengeId: string;
          options: { challenge: string; rp: { id?: string } };
        })
      : await beginPasskeyEnrolment(handle.db, m.actor);
    const passkey = softwarePasskeyRegistration(begun.options, baseUrl());
    return {
      page: "/security",
      fields: { challengeId: begun.challengeId, name: "rbac passkey", response: passkey.response },
      as: m.cookie,
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(staffPasskeys).where(eq(staffPasskeys.staffId, m.id));
        expect(rows.map((r) => [r.id, r.name])).toEqual([[passkey.id, "rbac passkey"]]);
      },
    };
  },
  async removePasskeyAction(_env, who) {
    const m = await member(who);
    const id = await seedPasskey(m.id);
    return {
      page: "/security",
      fields: { id },
      as: m.cookie,
      async done(reply) {
        okAnswer(reply);
        expect(await handle.db.select().from(staffPasskeys).where(eq(staffPasskeys.staffId, m.id))).toEqual([]);
      },
    };
  },
  async regenerateRecoveryCodesAction(_env, who) {
    const m = await member(who);
    await seedPasskey(m.id);
    return {
      page: "/security",
      fields: {},
      as: m.cookie,
      async done(reply) {
        expect(okAnswer(reply).data).toHaveLength(10);
        expect(await handle.db.select().from(staffRecoveryCodes).where(eq(staffRecoveryCodes.staffId, m.id))).toHaveLength(10);
      },
    };
  },
  async updateSecurityPolicyAction() {
    // The policy as it is (other files share this server and its sessions): saving it still
    // stamps who saved it.
    const policy = await getSecuritySettings(handle.db);
    return {
      page: "/settings",
      fields: {
        ...(policy.requireSecondFactor ? { requireSecondFactor: "on" } : {}),
        ...(policy.productionNeedsStrongAuth ? { productionNeedsStrongAuth: "on" } : {}),
      },
      async done(reply, who) {
        expect(okAnswer(reply).data).toBe("security");
        const [row] = await handle.db.select().from(securitySettings).where(eq(securitySettings.id, 1));
        expect(row!.updatedBy).toBe(staffIds[who as Exclude<Who, "out">]);
      },
    };
  },
  async resetSecondFactorsAction() {
    const target = await seedStaff();
    await seedPasskey(target.id);
    const [was] = await handle.db.select().from(staff).where(eq(staff.id, target.id));
    return {
      page: "/staff",
      fields: { id: target.id },
      async done(reply) {
        okAnswer(reply);
        expect(await handle.db.select().from(staffPasskeys).where(eq(staffPasskeys.staffId, target.id))).toEqual([]);
        const [row] = await handle.db.select().from(staff).where(eq(staff.id, target.id));
        expect(row!.sessionVersion).toBe(was!.sessionVersion + 1);
      },
    };
  },
  async removeDemoTeamAction() {
    const target = await seedStaff();
    await handle.db.update(staff).set({ demo: true }).where(eq(staff.id, target.id));
    return {
      page: "/staff",
      fields: {},
      async done(reply) {
        expect(okAnswer(reply).message).toContain(target.email);
        expect(await handle.db.select().from(staff).where(eq(staff.id, target.id))).toEqual([]);
      },
    };
  },
  // The second step of a password sign-in: these answer to a live ticket, whoever posts it.
  async secondStepAction() {
    const t = await ticketOf();
    return {
      page: "/login",
      fields: {},
      args: [t.ticket],
      async done(reply) {
        expect(reply.answer).toEqual({ ok: true, email: t.email, methods: ["passkey"], enrol: null, qrSvg: null });
      },
      withoutTicket: {
        args: [randomBytes(32).toString("base64url")],
        refused(reply) {
          expect(reply.answer).toEqual({ ok: false, message: "This sign-in took too long or had too many tries. Sign in again.", qrSvg: null });
        },
      },
    };
  },
  async passkeyOptionsAction() {
    const t = await ticketOf();
    return {
      page: "/login",
      fields: {},
      args: [t.ticket],
      async done(reply) {
        const options = reply.answer as unknown as { challenge: string; allowCredentials: Array<{ id: string }> };
        expect(options.allowCredentials.map((c) => c.id)).toEqual([t.passkeyId]);
        const [row] = await handle.db
          .select()
          .from(staffChallenges)
          .where(and(eq(staffChallenges.staffId, t.staffId), eq(staffChallenges.purpose, "sign_in")));
        expect(row!.webauthnChallenge).toBe(options.challenge);
      },
      withoutTicket: {
        args: [randomBytes(32).toString("base64url")],
        refused(reply) {
          expect({ status: reply.status, answer: reply.answer }).toEqual({ status: 200, answer: null });
        },
      },
    };
  },
  async createEndpointAction(env) {
    const url = `https://hooks.example.com/${uniq("rbac")}`;
    return {
      page: "/webhooks",
      fields: { url, environment: env, "event:migration.rejected": "on" },
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.url, url));
        expect(rows.map((r) => [r.environment, r.eventTypes])).toEqual([[env, ["migration.rejected"]]]);
        await dropEndpoint(rows[0]!.id);
      },
    };
  },
  async setEndpointEnabledAction(env) {
    const endpoint = await seedEndpoint(env);
    return {
      page: `/webhooks/${endpoint.id}`,
      fields: { id: endpoint.id, enabled: "false" },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
        expect([row!.disabledAt instanceof Date, row!.disabledReason]).toEqual([true, "staff"]);
        await dropEndpoint(endpoint.id);
      },
    };
  },
  async rotateSecretAction(env) {
    const endpoint = await seedEndpoint(env);
    const [before] = await handle.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    return {
      page: `/webhooks/${endpoint.id}`,
      fields: { id: endpoint.id, overlap: "3600" },
      async done(reply) {
        expect((okAnswer(reply).data as { secret: string }).secret).toMatch(/^whsec_/);
        const [row] = await handle.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
        expect(row!.secretEncrypted).not.toBe(before!.secretEncrypted);
        expect(row!.previousSecretEncrypted).toBe(before!.secretEncrypted);
        await dropEndpoint(endpoint.id);
      },
    };
  },
  async deleteEndpointAction(env) {
    const endpoint = await seedEndpoint(env);
    return {
      page: `/webhooks/${endpoint.id}`,
      fields: { id: endpoint.id },
      async done(reply) {
        okAnswer(reply);
        expect(await handle.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id))).toEqual([]);
      },
    };
  },
  async sendTestEventAction(env) {
    const endpoint = await seedEndpoint(env);
    return {
      page: `/webhooks/${endpoint.id}`,
      fields: { id: endpoint.id },
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
        expect(rows.map((r) => r.eventType)).toEqual(["webhook.test"]);
        await dropEndpoint(endpoint.id);
      },
    };
  },
  async replayDeliveryAction(env) {
    const endpoint = await seedEndpoint(env);
    // A finished delivery to replay: a test event, marked failed in the database (no dispatcher runs it).
    const delivery = await sendTestEvent(handle.db, system, endpoint.id, NO_REQUEST);
    await handle.db.update(webhookDeliveries).set({ status: "failed", nextAttemptAt: null, attempts: 3 }).where(eq(webhookDeliveries.id, delivery.id));
    return {
      page: `/webhooks/${endpoint.id}`,
      fields: { id: delivery.id },
      async done(reply) {
        okAnswer(reply);
        const [row] = await handle.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, delivery.id));
        expect([row!.status, row!.attempts, row!.messageId]).toEqual(["pending", 0, delivery.messageId]);
        await dropEndpoint(endpoint.id);
      },
    };
  },
  async createWorkflowAction() {
    const name = uniq("rbac workflow");
    return {
      page: "/workflows",
      fields: { name, steps: "document,selfie" },
      async done(reply) {
        okAnswer(reply);
        const rows = await handle.db.select().from(workflows).where(eq(workflows.name, name));
        expect(rows).toHaveLength(1);
      },
    };
  },
};

const ROLE_LABEL: Record<Exclude<Who, "out">, string> = { admin: "Admin", support: "Support", qa: "QA", auditor: "Auditor" };

/** The refusal a cell names, as the action answers it. */
function expectRefusal(entry: ActionEntry, who: Who, reply: ActionReply): void {
  const cell = entry[who];
  if (reply.answer === null) {
    // A plain form action refuses by redirecting (findDeviceAction).
    expect({ who, cell, redirect: reply.redirect }).toEqual({ who, cell, redirect: cell === "sign-in" ? "/login" : "/devices" });
    return;
  }
  if (cell === "sign-in") {
    expect(reply.answer, `as ${who}`).toEqual({ ok: false, code: "unauthorized", error: "Your session has ended. Sign in again to continue." });
  } else if (cell === "not found") {
    expect(reply.answer, `as ${who}`).toEqual({ ok: false, code: expect.stringMatching(/not_found$/), error: expect.any(String) });
  } else {
    // QA refused on production data what the matrix lets QA do in sandbox: the domain's sentence.
    const sandboxRow = ACTIONS.find((e) => e.file === entry.file && e.action === entry.action && e.data === "sandbox");
    const confined = who === "qa" && entry.data === "production" && sandboxRow?.qa === "ok";
    const error = confined ? "QA staff may only act in the sandbox environment." : `The ${ROLE_LABEL[who as Exclude<Who, "out">]} role may not do this.`;
    expect(reply.answer, `as ${who}`).toEqual({ ok: false, code: "forbidden", error });
  }
}

const label = (e: ActionEntry) => `${e.action}${e.data === "-" ? "" : ` on ${e.data} data`}`;

describe("every server action as every role (e2e/rbac-matrix.ts ACTIONS)", () => {
  it("has a driver for every action in the matrix", () => {
    expect(ACTIONS.map((e) => e.action).filter((a) => !DRIVERS[a])).toEqual([]);
  });

  for (const entry of ACTIONS) {
    const allowed = WHO.filter((who) => entry[who] === "ok" || entry[who] === "ticket");
    const refused = WHO.filter((who) => entry[who] !== "ok" && entry[who] !== "ticket");
    const ticketed = WHO.filter((who) => entry[who] === "ticket");
    const env: Env = entry.data === "production" ? "production" : "sandbox";
    const call = (who: Who, prepared: Prepared, args = prepared.args) =>
      callAction(baseUrl(), entry[who] === "ok" && prepared.as !== undefined ? prepared.as : cookies[who], {
        file: entry.file,
        name: entry.action,
        page: prepared.page,
        fields: prepared.fields,
        shape: prepared.shape,
        args,
      });

    it(`${label(entry)}: ${WHO.map((who) => `${who} ${entry[who]}`).join(", ")}`, async () => {
      // Allowed: each on fresh data (side by side), and the database shows what the action did.
      await Promise.all(
        allowed.map(async (who) => {
          const prepared = await DRIVERS[entry.action]!(env, who);
          const reply = await call(who, prepared);
          await prepared.done(reply, who).catch((err: Error) => {
            err.message = `as ${who}: ${err.message}`;
            throw err;
          });
        }),
      );
      // A ticket that is not live gets nothing, whoever posts it, and changes nothing.
      if (ticketed.length) {
        const prepared = await DRIVERS[entry.action]!(env, ticketed[0]!);
        const before = await databaseDigest(handle.db);
        const replies = await Promise.all(ticketed.map((who) => call(who, prepared, prepared.withoutTicket!.args)));
        for (const reply of replies) prepared.withoutTicket!.refused(reply);
        await expectUnchanged(handle.db, before, `${label(entry)} without a live ticket`);
      }
      if (!refused.length) return;
      // Refused: one set of data for all of them, which must come out as it went in.
      const prepared = await DRIVERS[entry.action]!(env, refused[0]!);
      const before = await databaseDigest(handle.db);
      const replies = await Promise.all(refused.map((who) => call(who, prepared)));
      refused.forEach((who, i) => {
        if (entry[who] === "hidden") prepared.hidden!(replies[i]!);
        else expectRefusal(entry, who, replies[i]!);
      });
      await expectUnchanged(handle.db, before, `${label(entry)} refused to ${refused.join(", ")}`);
    });
  }
});

describe("console forms refuse text the database cannot hold", () => {
  // The machine API refuses a NUL at its edge (bad-input-matrix); the console's forms reach the
  // domain through staffAction, which must refuse it the same way: at the field, writing nothing.
  for (const [action, field] of [
    ["createUserAction", "name"],
    ["createUserAction", "client_user_id"],
    ["updateUserAction", "email"],
    ["updateUserAction", "reason"],
  ] as const) {
    it(`${action}: a NUL in ${field} is refused at that field and changes nothing`, async () => {
      const entry = ACTIONS.find((e) => e.action === action && e.data === "sandbox")!;
      const prepared = await DRIVERS[action]!("sandbox", "support");
      const fields = { ...prepared.fields!, [field]: `before\u0000after` };
      const before = await databaseDigest(handle.db);
      const reply = await callAction(baseUrl(), cookies.support, { file: entry.file, name: action, page: prepared.page, fields, shape: prepared.shape });
      expect(reply.status).toBe(200);
      expect(reply.answer).toMatchObject({ ok: false, code: "validation_failed", field, fields: { [field]: "This field contains a NUL character." } });
      await expectUnchanged(handle.db, before, `${action} with a NUL in ${field}`);
    });
  }
});
