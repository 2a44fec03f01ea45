/**
 * Webhooks on a real database (PGlite and PostgreSQL): endpoints and their audited changes, every
 * one of the fifteen events written with its audit row by the domain function that makes the change
 * (and nothing for a rolled-back one), the fan-out to deliveries after commit (exactly once, with
 * transactions committing out of order and two instances fanning out at once), delivery to a receiver that verifies each signature with the
 * `standardwebhooks` library, retries and giving up on an injected clock, disabling an endpoint
 * that fails for a day, SSRF refusals after DNS, rotation, replay, test events, and two dispatchers
 * sharing 1,000 events without sending one twice.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, type Executor, openDatabase, queryRows } from "@/db/client";
import { auditEvents, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { apiKeyActor, authenticateApiKey, createApiKey } from "@/lib/api-keys";
import { type AuditInput, recordAudit, recordAudits } from "@/lib/audit/record";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { createInstance, registerDevice, setDeviceDisabled } from "@/lib/devices";
import { DomainError } from "@/lib/errors";
import { cancelHandoff, createWorkflow, mintEphemeralToken, startSession, submitSession, submitStep, sweepExpiredIdv } from "@/lib/idv";
import { metrics } from "@/lib/metrics";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { refreshSdkSession } from "@/lib/oauth/refresh";
import { revokeToken } from "@/lib/oauth/revoke";
import { clearSigningKeyCache, ensureSigningKey } from "@/lib/oauth/signing-keys";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { createUser, deleteUser, revokeSession, setUserDisabled } from "@/lib/users";
import { listDeliveries, replayDelivery, sendTestEvent } from "@/lib/webhooks/deliveries";
import { type DispatchOptions, dispatchDueDeliveries, startWebhookDispatcher } from "@/lib/webhooks/dispatcher";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  failingEndpoints,
  getWebhookEndpoint,
  listWebhookEndpoints,
  rotateWebhookSecret,
  setWebhookEndpointEnabled,
} from "@/lib/webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType, webhookBodySchema } from "@/lib/webhooks/events";
import { fanOutAll, fanOutWebhookEvents } from "@/lib/webhooks/outbox";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver";

const meta: RequestMeta = { requestId: "req-webhooks", ip: null, userAgent: "vitest" };
const system = systemActor("test");
const staff = (role: "admin" | "support" | "qa" | "auditor"): Actor => ({
  type: "staff",
  id: `0000000${role.length}-0000-4000-8000-000000000000`,
  name: role,
  role,
});
const admin = staff("admin");
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e7c9f60000000049454e44ae426082",
  "hex",
);
/** Test receivers are named `receiver.test` and resolve to loopback through this resolver. */
const loopback: DispatchOptions["resolve"] = async () => [{ address: "127.0.0.1", family: 4 }];
const at = (base: Date, ms: number) => () => new Date(base.getTime() + ms);

let t: TestDatabase;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await createTestDatabase({ maxConnections: 20 });
  clearSigningKeyCache();
  await ensureSigningKey(t.db);
  receiver = await startWebhookReceiver();
});
// Each test cleans up after itself, even when it fails: a failure must not leave endpoints whose
// pending deliveries the next test's dispatcher would pick up.
afterEach(async () => {
  await t.db.delete(webhookDeliveries);
  await t.db.delete(webhookEndpoints);
});
afterAll(async () => {
  await receiver.close();
  clearSigningKeyCache();
  await t.close();
});

async function rejects(p: Promise<unknown>, status: number, code: string): Promise<DomainError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${status} ${code}`).toBeInstanceOf(DomainError);
  expect({ status: (err as DomainError).status, code: (err as DomainError).code }).toEqual({ status, code });
  return err as DomainError;
}

/** A fresh endpoint on the shared receiver (path per endpoint), its secret registered with the receiver. */
async function endpoint(opts: { environment?: "sandbox" | "production"; eventTypes?: WebhookEventType[]; path?: string } = {}) {
  const path = opts.path ?? `/hooks/${Math.random().toString(36).slice(2)}`;
  const { endpoint: view, secret } = await createWebhookEndpoint(
    t.db,
    admin,
    { url: receiver.url(path, "receiver.test"), environment: opts.environment ?? "sandbox", eventTypes: opts.eventTypes ?? [...WEBHOOK_EVENT_TYPES] },
    meta,
  );
  return { view, secret, path };
}

const dispatch = (opts: DispatchOptions = {}) => dispatchDueDeliveries(t.db, { allowPrivate: true, resolve: loopback, ...opts });
const deliveriesOf = (endpointId: string, db: Executor = t.db) => db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId));
/** A device.registered audit event carrying its webhook event, as registerDevice writes it. */
const deviceRegistered = (deviceId: string, environment: "sandbox" | "production" = "sandbox"): AuditInput => ({
  actor: system,
  action: "device.registered",
  target: { type: "device", id: deviceId },
  environment,
  details: { instanceId: "i", clientId: null },
  webhook: { type: "device.registered", data: { device_id: deviceId, instance_id: "i", client_id: null, environment } },
});
/**
 * The executor `db` with every statement it sends recorded in `into` (both drivers: postgres.js's
 * `unsafe`, through which drizzle and queryRows send everything, PGlite's `query` likewise).
 */
function spyStatements(db: Executor, into: string[]): Executor {
  const internals = db as unknown as { session: { client: Record<string, unknown> } };
  const client = internals.session.client;
  const method = typeof client.unsafe === "function" ? "unsafe" : "query";
  const send = client[method] as (text: string, ...rest: unknown[]) => unknown;
  const spiedClient = Object.assign(Object.create(client), {
    [method]: (text: string, ...rest: unknown[]) => {
      into.push(text.trim());
      return send.call(client, text, ...rest);
    },
  });
  return Object.assign(Object.create(db), { session: Object.assign(Object.create(internals.session), { client: spiedClient }) }) as Executor;
}
const auditActions = async (targetId: string) =>
  (await t.db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.targetId, targetId)).orderBy(auditEvents.id)).map((r) => r.action);

async function apiKey(environment: "sandbox" | "production" = "sandbox") {
  const { key } = await createApiKey(
    t.db,
    system,
    {
      name: `k-${Math.random()}`,
      environment,
      region: "us",
      scopes: ["users:read", "users:write", "sign_in_tokens:write", "ephemeral_devices:write", "sessions:read"],
    },
    meta,
  );
  return { key, actor: apiKeyActor(await authenticateApiKey(t.db, key, null)) };
}

describe("endpoints", () => {
  it("shows the secret once, stores it only encrypted, and audits every change", async () => {
    const { view, secret } = await endpoint({ eventTypes: ["user.created", "idv_session.submitted"] });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const [row] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, view.id));
    expect(row!.secretEncrypted).not.toContain(secret.slice(6));
    const shown = JSON.stringify([await listWebhookEndpoints(t.db, admin), await getWebhookEndpoint(t.db, staff("auditor"), view.id)]);
    expect(shown).not.toContain(secret.slice(6));
    expect(shown).not.toContain(row!.secretEncrypted);
    expect(view).toMatchObject({ environment: "sandbox", eventTypes: ["user.created", "idv_session.submitted"], enabled: true });

    expect((await setWebhookEndpointEnabled(t.db, admin, view.id, false, meta)).enabled).toBe(false);
    expect((await setWebhookEndpointEnabled(t.db, admin, view.id, false, meta)).enabled).toBe(false); // no change, no event
    expect((await setWebhookEndpointEnabled(t.db, admin, view.id, true, meta)).enabled).toBe(true);
    const rotated = await rotateWebhookSecret(t.db, admin, view.id, { overlapSeconds: 600 }, meta);
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.endpoint.previousSecretExpiresAt).not.toBeNull();
    await deleteWebhookEndpoint(t.db, admin, view.id, meta);
    await rejects(getWebhookEndpoint(t.db, admin, view.id), 404, "webhook_endpoint_not_found");
    expect(await auditActions(view.id)).toEqual([
      "webhook_endpoint.created",
      "webhook_endpoint.disabled",
      "webhook_endpoint.enabled",
      "webhook_endpoint.secret_rotated",
      "webhook_endpoint.deleted",
    ]);
    const audit = JSON.stringify(await t.db.select().from(auditEvents).where(eq(auditEvents.targetId, view.id)), (_k, v) =>
      typeof v === "bigint" ? String(v) : v,
    );
    expect(audit).not.toContain(secret.slice(6));
    expect(audit).not.toContain(rotated.secret.slice(6));
  });

  it("refuses bad input with a 422 naming the field, and writes nothing", async () => {
    const before = (await t.db.select().from(webhookEndpoints)).length;
    const base = { url: "https://hooks.example.com/td", environment: "sandbox" as const, eventTypes: ["user.created" as const] };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: "ftp://hooks.example.com/" }, /^URL must be an http/],
      [{ url: "not a url" }, /^URL must be an absolute/],
      [{ url: "https://user:pw@hooks.example.com/" }, /^URL must not carry a user name/],
      [{ url: "http://127.0.0.1:8080/hook" }, /^URL points at a loopback address/],
      [{ url: "http://10.0.0.8/hook" }, /^URL points at a private address/],
      [{ url: "http://169.254.169.254/latest" }, /^URL points at a link-local address/],
      [{ url: "http://[::1]/hook" }, /^URL points at a loopback address/],
      [{ eventTypes: [] }, /^Event types must include at least one/],
      [{ eventTypes: ["user.exploded"] }, /^Event type must be among/],
      [{ environment: "staging" }, /^Environment must be sandbox or production/],
    ];
    for (const [patch, message] of cases) {
      const err = await rejects(createWebhookEndpoint(t.db, admin, { ...base, ...patch } as never, meta), 422, "validation_failed");
      expect(err.message, JSON.stringify(patch)).toMatch(message);
    }
    await rejects(rotateWebhookSecret(t.db, admin, "00000000-0000-4000-8000-000000000000", {}, meta), 404, "webhook_endpoint_not_found");
    await rejects(rotateWebhookSecret(t.db, admin, "not-a-uuid", {}, meta), 404, "webhook_endpoint_not_found");
    expect((await t.db.select().from(webhookEndpoints)).length).toBe(before);
  });

  it("lets admins manage, auditors read, and nobody else", async () => {
    const input = { url: "https://hooks.example.com/td", environment: "sandbox" as const, eventTypes: ["user.created" as const] };
    for (const role of ["support", "qa", "auditor"] as const) await rejects(createWebhookEndpoint(t.db, staff(role), input, meta), 403, "forbidden");
    await rejects(listWebhookEndpoints(t.db, staff("support")), 403, "forbidden");
    expect(Array.isArray(await listWebhookEndpoints(t.db, staff("auditor")))).toBe(true);
    const { view } = await endpoint();
    await rejects(sendTestEvent(t.db, staff("auditor"), view.id, meta), 403, "forbidden");
    await deleteWebhookEndpoint(t.db, admin, view.id, meta);
  });
});

describe("events", () => {
  it("writes each of the fifteen event types once, from the function that makes the change, with ids and no secret", async () => {
    const all = await endpoint();
    const onlyUsers = await endpoint({ eventTypes: ["user.created"] });
    const production = await endpoint({ environment: "production" });
    const disabled = await endpoint();
    await setWebhookEndpointEnabled(t.db, admin, disabled.view.id, false, meta);
    const secrets: string[] = [];

    // users, sign-in tokens, sessions, migration
    const { key, actor } = await apiKey();
    secrets.push(key);
    const user = await createUser(t.db, actor, { client_user_id: `wh-${Math.random()}` }, meta);
    const first = await issueSignInToken(t.db, actor, user.id, {}, meta);
    const rejected = await issueSignInToken(t.db, actor, user.id, {}, meta);
    secrets.push(first.signInToken, rejected.signInToken);
    const session = await exchangeSignInToken(
      t.db,
      {
        signInToken: first.signInToken,
        installationId: "ios-1",
        migration: { apiKey: key, previousUserId: user.id },
      },
      meta,
    );
    secrets.push(session.refresh_token, session.access_token);
    await expect(
      exchangeSignInToken(t.db, { signInToken: rejected.signInToken, migration: { apiKey: key, previousUserId: "someone-else" } }, meta),
    ).rejects.toThrow(/incompatible_migration/);
    const t0 = new Date();
    const rotated = await refreshSdkSession(t.db, session.refresh_token, meta, { now: t0 });
    secrets.push(rotated.refresh_token);
    await expect(refreshSdkSession(t.db, session.refresh_token, meta, { now: new Date(t0.getTime() + 60_000) })).rejects.toThrow(/refresh_token_reused/);
    const again = await issueSignInToken(t.db, actor, user.id, {}, meta);
    const second = await exchangeSignInToken(t.db, { signInToken: again.signInToken }, meta);
    const third = await exchangeSignInToken(t.db, { signInToken: (await issueSignInToken(t.db, actor, user.id, {}, meta)).signInToken }, meta);
    secrets.push(again.signInToken, second.refresh_token, third.refresh_token);
    await revokeToken(t.db, second.refresh_token, meta);
    const [thirdSession] = await queryRows<{ id: string }>(
      t.db,
      sql`select id::text as id from sdk_sessions where user_id = ${user.id}::uuid and revoked_at is null`,
    );
    await revokeSession(t.db, admin, thirdSession!.id, { reason: "lost phone" }, meta);
    await setUserDisabled(t.db, admin, user.id, true, { reason: "fraud check" }, meta);
    await setUserDisabled(t.db, admin, user.id, false, { reason: "cleared" }, meta);
    await deleteUser(t.db, actor, user.id, {}, meta);

    // IDV: started + submitted, started + cancelled, started + expired
    const wf = await createWorkflow(t.db, system, { name: `wf ${Math.random()}`, steps: ["document", "form"] }, meta);
    const now = new Date();
    const tokens = await Promise.all([0, 1, 2].map(() => mintEphemeralToken(t.db, actor, { ttl: 600 }, meta, now)));
    secrets.push(...tokens.map((m) => m.authorization));
    const sessions = [];
    for (const m of tokens) sessions.push(await startSession(t.db, m.authorization, { workflowId: wf.id, metadata: { externalUserId: "ext-9" } }, meta, now));
    await submitStep(t.db, tokens[0]!.authorization, sessions[0]!.id, "document", { kind: "image", bytes: PNG }, meta, now);
    await submitStep(
      t.db,
      tokens[0]!.authorization,
      sessions[0]!.id,
      "form",
      { kind: "fields", fields: { fullName: "Ada", dateOfBirth: "1815-12-10" } },
      meta,
      now,
    );
    await submitSession(t.db, tokens[0]!.authorization, sessions[0]!.id, meta, now);
    await cancelHandoff(t.db, admin, sessions[1]!.id, "customer asked", meta, now);
    await sweepExpiredIdv(t.db, new Date(now.getTime() + 601_000));

    // devices
    const { instance, instanceKey } = await createInstance(t.db, system, { name: `fleet ${Math.random()}`, environment: "sandbox" }, meta);
    secrets.push(instanceKey);
    const device = await registerDevice(
      t.db,
      (await t.db.query.instances.findFirst({ where: (i, { eq }) => eq(i.id, instance.id) }))!,
      {
        UserFields: { ClientId: "driver-7" },
        CustomToken: null,
        FirstName: null,
        LastName: null,
        Nickname: null,
        Phone: null,
        Email: null,
      },
      meta,
    );
    secrets.push(device.deviceToken, device.refreshToken, device.accessToken);
    await setDeviceDisabled(t.db, admin, device.deviceId, true, "stolen vehicle", meta);

    // The events are in their audit rows; nothing is delivered before the fan-out after commit.
    expect(await t.db.select().from(webhookDeliveries)).toEqual([]);
    await fanOutAll(t.db);
    const rows = await deliveriesOf(all.view.id);
    const byType = new Map<string, number>();
    for (const r of rows) byType.set(r.eventType, (byType.get(r.eventType) ?? 0) + 1);
    expect(Object.fromEntries(byType)).toEqual({
      ...Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [type, 1])),
      "sign_in_token.redeemed": 3, // three exchanges
      "sdk_session.revoked": 2, // by the SDK (RFC 7009) and by staff
      "idv_session.started": 3, // one submitted, one cancelled, one expired
    });
    // Subscriptions, environments and disabled endpoints are honoured at fan-out time.
    expect((await deliveriesOf(onlyUsers.view.id)).map((r) => r.eventType)).toEqual(["user.created"]);
    expect(await deliveriesOf(production.view.id)).toEqual([]);
    expect(await deliveriesOf(disabled.view.id)).toEqual([]);
    // One event, one webhook-id, whichever endpoint gets it.
    const created = rows.find((r) => r.eventType === "user.created")!;
    expect((await deliveriesOf(onlyUsers.view.id))[0]!.messageId).toBe(created.messageId);

    const SECRET_SHAPES = [
      /\b(sk|pk)_[a-z]{2,8}_[0-9A-Za-z]{49}\b/,
      /\bsit_/,
      /\brt_[0-9A-Za-z]{40,}/,
      /\bet_[0-9a-f]{32}\./,
      /eyJ[A-Za-z0-9_-]{10,}\./,
      /whsec_/,
    ];
    for (const r of rows) {
      const body = JSON.parse(r.body);
      expect(Object.keys(body)).toEqual(["type", "version", "timestamp", "data"]);
      expect(body).toMatchObject({ type: r.eventType, version: 1 });
      // Exactly the documented shape (the OpenAPI document's webhooks come from the same schema).
      expect(webhookBodySchema(r.eventType as WebhookEventType).safeParse(body).error, r.eventType).toBeUndefined();
      expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
      for (const s of secrets) expect(r.body.includes(s), `${r.eventType} carries a secret`).toBe(false);
      for (const shape of SECRET_SHAPES) expect(shape.test(r.body), `${r.eventType}: ${r.body}`).toBe(false);
    }
    const data = (type: string) => JSON.parse(rows.find((r) => r.eventType === type)!.body).data;
    expect(data("user.created")).toEqual({
      user_id: user.id,
      client_user_id: user.clientUserId,
      environment: "sandbox",
      region: "us",
      created_on: user.createdAt.toISOString(),
      initiated_by: "api_key",
    });
    const redeemed = rows.filter((r) => r.eventType === "sign_in_token.redeemed").map((r) => JSON.parse(r.body).data);
    expect(redeemed.find((d) => d.sign_in_token_id === first.tokenId)).toMatchObject({
      user_id: user.id,
      installation_id: "ios-1",
      session_id: expect.any(String),
    });
    expect(data("migration.completed")).toMatchObject({ user_id: user.id, api_key_id: actor.id, api_key_prefix: key.slice(0, 10), installation_id: "ios-1" });
    expect(data("migration.rejected")).toMatchObject({ user_id: user.id, reason: "user_mismatch", previous_user_id: "someone-else", api_key_id: actor.id });
    expect(data("refresh_token.reuse_detected")).toMatchObject({
      user_id: user.id,
      installation_id: "ios-1",
      reason: "after_grace",
      rotated_at: t0.toISOString(),
    });
    expect(data("user.disabled")).toMatchObject({ user_id: user.id, sessions_ended: 0, initiated_by: "staff" });
    expect(data("user.deleted")).toMatchObject({ user_id: user.id, initiated_by: "api_key" });
    expect(data("idv_session.submitted")).toMatchObject({
      session_id: sessions[0]!.id,
      workflow_id: wf.id,
      status: "submitted",
      external_user_id: "ext-9",
      steps: ["document", "form"],
    });
    expect(data("idv_session.cancelled")).toMatchObject({ session_id: sessions[1]!.id, status: "cancelled", previous_status: "created" });
    expect(data("idv_session.expired")).toMatchObject({ session_id: sessions[2]!.id, status: "expired" });
    expect(data("device.registered")).toEqual({ device_id: device.deviceId, instance_id: instance.id, client_id: "driver-7", environment: "sandbox" });
    expect(data("device.disabled")).toMatchObject({ device_id: device.deviceId, initiated_by: "staff" });
    const revoked = rows.filter((r) => r.eventType === "sdk_session.revoked").map((r) => JSON.parse(r.body).data.reason);
    expect(revoked.sort()).toEqual(["revoked_by_client", "revoked_by_staff"]);

    for (const e of [all, onlyUsers, production, disabled]) await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("sends nothing for a change that rolls back", async () => {
    const e = await endpoint();
    const { actor } = await apiKey();
    const user = await createUser(t.db, actor, { client_user_id: `rb-${Math.random()}` }, meta);
    const token = await issueSignInToken(t.db, actor, user.id, {}, meta);
    // The user is disabled after the token was issued: the exchange redeems the token, then refuses
    // and rolls back — the redemption and its event with it.
    await setUserDisabled(t.db, actor, user.id, true, {}, meta);
    await expect(exchangeSignInToken(t.db, { signInToken: token.signInToken }, meta)).rejects.toThrow(/user_disabled/);
    // A submit with steps missing refuses inside its transaction.
    const wf = await createWorkflow(t.db, system, { name: `wf ${Math.random()}`, steps: ["document"] }, meta);
    const m = await mintEphemeralToken(t.db, actor, { ttl: 600 }, meta);
    const s = await startSession(t.db, m.authorization, { workflowId: wf.id }, meta);
    await rejects(submitSession(t.db, m.authorization, s.id, meta), 422, "steps_incomplete");
    // And the audit write that carries an event is part of whatever transaction it is given: the
    // event is the audit row's, and goes with it.
    let auditId = "";
    await expect(
      t.db.transaction(async (tx) => {
        auditId = await recordAudit(tx, deviceRegistered("rolled-back"), meta);
        const [row] = await (tx as Executor).select({ webhook: auditEvents.webhook }).from(auditEvents).where(eq(auditEvents.id, auditId));
        expect(row!.webhook).toMatchObject({ type: "device.registered" }); // written, inside the transaction
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await t.db.select().from(auditEvents).where(eq(auditEvents.id, auditId))).toEqual([]);

    await fanOutAll(t.db);
    expect((await deliveriesOf(e.view.id)).map((r) => r.eventType).sort()).toEqual(["idv_session.started", "user.created", "user.disabled"]);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });
});

describe("the event write and the fan-out", () => {
  const deliveredDevices = async (endpointId: string) => (await deliveriesOf(endpointId)).map((r) => JSON.parse(r.body).data.device_id as string).sort();

  it("writes the event in the audit insert's one statement, and no delivery until the fan-out", async () => {
    const a = await endpoint({ eventTypes: ["device.registered"] });
    const b = await endpoint({ eventTypes: ["device.registered", "user.created"] });
    const statements: string[] = [];
    const auditIds = await t.db.transaction(async (tx) =>
      recordAudits(spyStatements(tx as Executor, statements), [deviceRegistered("one"), deviceRegistered("two")], meta),
    );
    // One statement for two audit rows and their two events: the plain audit INSERT, nothing else.
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^insert into audit_events \([^)]*\bwebhook\)/);
    expect(statements[0]).not.toContain("webhook_deliveries");
    const events = await t.db.select({ webhook: auditEvents.webhook }).from(auditEvents).where(inArray(auditEvents.id, auditIds));
    expect(events.map((e) => e.webhook?.type)).toEqual(["device.registered", "device.registered"]);
    expect(await t.db.select().from(webhookDeliveries)).toEqual([]);

    expect(await fanOutAll(t.db)).toBe(4); // two events × two endpoints
    for (const e of [a, b]) {
      const rows = await deliveriesOf(e.view.id);
      expect(rows.map((r) => JSON.parse(r.body).data.device_id).sort()).toEqual(["one", "two"]);
      expect(rows.every((r) => r.status === "pending" && r.environment === "sandbox" && r.attempts === 0)).toBe(true);
      // The delivery is exactly the event written with the audit row: its webhook-id and body.
      expect(rows.map((r) => [r.messageId, r.body]).sort()).toEqual(events.map((x) => [x.webhook!.messageId, x.webhook!.body]).sort());
    }
    // Fanned out once: nothing more on the next run, and runs with nothing new write nothing, not
    // even the cursor (each such write would give the next run a transaction to cover: a write a tick).
    const cursor = () => queryRows<{ row: string }>(t.db, sql`select row_to_json(c)::text as row from webhook_fanout_cursor c`);
    expect(await fanOutAll(t.db)).toBe(0);
    const idle = await cursor();
    expect(idle).toHaveLength(1);
    for (let i = 0; i < 3; i++) expect(await fanOutAll(t.db)).toBe(0);
    expect(await cursor()).toEqual(idle);
    expect(await t.db.select().from(webhookDeliveries)).toHaveLength(4);

    // An audit event without a webhook event is the same insert with no event; a webhook event needs an environment.
    statements.length = 0;
    const [plain] = await t.db.transaction(async (tx) => [
      await recordAudit(spyStatements(tx as Executor, statements), { ...deviceRegistered("three"), webhook: null }, meta),
    ]);
    expect(statements).toEqual([expect.stringMatching(/^insert into audit_events /)]);
    expect((await t.db.select({ webhook: auditEvents.webhook }).from(auditEvents).where(eq(auditEvents.id, plain!)))[0]!.webhook).toBeNull();
    await expect(t.db.transaction((tx) => recordAudit(tx, { ...deviceRegistered("four"), environment: null }, meta))).rejects.toThrow(
      /needs its audit event's environment/,
    );
    for (const e of [a, b]) await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("judges endpoints at fan-out: not before one existed, not while disabled, and one created on another connection gets the next event", async () => {
    // Events written from one connection (another instance, on PostgreSQL), endpoints changed on another.
    const first: DatabaseHandle | null = t.backend === "postgres" ? await openDatabase({ databaseUrl: t.url!, maxConnections: 1 }) : null;
    const db = first?.db ?? t.db;
    try {
      for (let i = 0; i < 3; i++) await db.transaction((tx) => recordAudit(tx, deviceRegistered(`before-${i}`), meta));
      // Created after those events, before their fan-out: it does not receive them.
      const e = await endpoint({ eventTypes: ["device.registered"] });
      await db.transaction((tx) => recordAudit(tx, deviceRegistered("after"), meta));
      await fanOutAll(t.db);
      expect(await deliveredDevices(e.view.id)).toEqual(["after"]);
      // Disabled on the other connection: an event written while it is disabled is not fanned out to it.
      await setWebhookEndpointEnabled(t.db, admin, e.view.id, false, meta);
      await db.transaction((tx) => recordAudit(tx, deviceRegistered("while-disabled"), meta));
      await fanOutAll(first?.db ?? t.db);
      expect(await deliveredDevices(e.view.id)).toEqual(["after"]);
      // Enabled again: the next event reaches it.
      await setWebhookEndpointEnabled(t.db, admin, e.view.id, true, meta);
      await db.transaction((tx) => recordAudit(tx, deviceRegistered("enabled-again"), meta));
      await fanOutAll(first?.db ?? t.db);
      expect(await deliveredDevices(e.view.id)).toEqual(["after", "enabled-again"]);
      await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
    } finally {
      await first?.close();
    }
  });

  it("decides by transaction ids, not clocks: an event 10 s behind the database's clock is delivered, one committed before the endpoint is not", async () => {
    // Read outside the writing transactions (PGlite has one connection: a read on t.db inside one would wait for it).
    const shifted = async (ms: number) =>
      new Date(new Date((await queryRows<{ now: Date }>(t.db, sql`select clock_timestamp() as now`))[0]!.now).getTime() + ms);
    // Committed before the endpoint existed, by an instance whose clock runs 10 s ahead: by the
    // clocks it happened after the endpoint's creation; by the ids it did not.
    const fast = await shifted(10_000);
    await t.db.transaction((tx) => recordAudit(tx, { ...deviceRegistered("before-fast-clock"), occurredAt: fast }, meta));
    const e = await endpoint({ eventTypes: ["device.registered"] });
    // Written after the endpoint's creation by an instance whose clock lags 10 s: by the clocks it
    // happened before the endpoint existed; by the ids it is after, and delivered.
    const slow = await shifted(-10_000);
    await t.db.transaction((tx) => recordAudit(tx, { ...deviceRegistered("after-slow-clock"), occurredAt: slow }, meta));
    const [row] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, e.view.id));
    expect(row!.createdTxid).toBeGreaterThan(0n);
    // An endpoint inserted as the release before 0017 inserts one (no created_txid): the default
    // gives it its transaction's id, so it too gets what comes after it and nothing before.
    const [legacy] = await queryRows<{ id: string; created: string; own: string }>(
      t.db,
      sql`insert into webhook_endpoints (id, url, environment, event_types, secret_encrypted)
          values (gen_random_uuid(), ${receiver.url("/hooks/legacy", "receiver.test")}, 'sandbox', array['device.registered'], ${row!.secretEncrypted})
          returning id, created_txid::text as created, pg_current_xact_id()::text as own`,
    );
    expect(legacy!.created).toBe(legacy!.own);
    const slower = await shifted(-10_000);
    await t.db.transaction((tx) => recordAudit(tx, { ...deviceRegistered("after-legacy"), occurredAt: slower }, meta));
    expect(await fanOutAll(t.db)).toBe(3);
    expect(await deliveredDevices(e.view.id)).toEqual(["after-legacy", "after-slow-clock"]);
    expect(await deliveredDevices(legacy!.id)).toEqual(["after-legacy"]);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
    await t.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, legacy!.id));
  });

  it("after a restore into another cluster (the cursor above every transaction id) fans out new events, the old backlog once, and nothing already delivered", async () => {
    const txidOf = async (auditId: string) =>
      BigInt((await queryRows<{ txid: string }>(t.db, sql`select txid::text as txid from audit_events where id = ${auditId}`))[0]!.txid);
    const setTxid = (auditId: string, txid: bigint) => queryRows(t.db, sql`update audit_events set txid = ${txid.toString()}::bigint where id = ${auditId}`);
    const restores = async () => (await metrics().webhookFanoutRestores.get()).values[0]?.value ?? 0;
    const e = await endpoint({ eventTypes: ["device.registered"] });
    const [delivered] = await t.db.transaction((tx) => recordAudits(tx, [deviceRegistered("delivered-before")], meta));
    expect(await fanOutAll(t.db)).toBe(1);

    // What a restore leaves: the rows of the old cluster, whose transaction ids lie far above this
    // cluster's, the cursor among them, and the endpoint's creating id too. Old ids just above this
    // cluster's next one, so that the new transactions below reach them.
    const [{ next }] = (await queryRows<{ next: string }>(t.db, sql`select pg_snapshot_xmax(pg_current_snapshot())::text as next`)) as [{ next: string }];
    const base = BigInt(next) + 20n;
    const oldCursor = base + 1_000_000_000n;
    const [old] = await t.db.transaction((tx) => recordAudits(tx, [deviceRegistered("restored-delivered")], meta)); // fanned out before the dump
    const [backlog] = await t.db.transaction((tx) => recordAudits(tx, [deviceRegistered("restored-backlog")], meta)); // not yet when dumped
    await setTxid(delivered!, base - 1n);
    await setTxid(old!, base + 5n);
    await setTxid(backlog!, oldCursor + 1n);
    await queryRows(t.db, sql`update webhook_endpoints set created_txid = ${(oldCursor - 100n).toString()}::bigint where id = ${e.view.id}`);
    await queryRows(t.db, sql`update webhook_fanout_cursor set to_txid = ${oldCursor.toString()}::bigint`);

    const before = await restores();
    // The old backlog goes out once, at the run that notices the restore.
    expect(await fanOutAll(t.db)).toBe(1);
    expect(await restores()).toBe(before + 1);
    expect(await deliveredDevices(e.view.id)).toEqual(["delivered-before", "restored-backlog"]);
    // New events, in transactions whose ids pass the restored rows' (base + 5), reach the restored
    // endpoint and one created now; the restored rows do not go out again.
    const late = await endpoint({ eventTypes: ["device.registered"] });
    const fresh: string[] = [];
    for (let i = 0; i < 30; i++) {
      const [id] = await t.db.transaction((tx) => recordAudits(tx, [deviceRegistered(`new-${String(i).padStart(2, "0")}`)], meta));
      fresh.push(id!);
    }
    expect(await txidOf(fresh.at(-1)!)).toBeGreaterThan(base + 5n);
    expect(await fanOutAll(t.db)).toBe(60);
    const news = Array.from({ length: 30 }, (_, i) => `new-${String(i).padStart(2, "0")}`);
    expect(await deliveredDevices(e.view.id)).toEqual(["delivered-before", "restored-backlog", ...news].sort());
    expect(await deliveredDevices(late.view.id)).toEqual(news);
    expect(await fanOutAll(t.db)).toBe(0);
    expect(await restores()).toBe(before + 1); // noticed once
    // The walk passed base + 5: its entry is gone; the backlog's (far above) stays until passed.
    const listed = await queryRows<{ txid: string }>(t.db, sql`select txid::text as txid from webhook_fanout_restored order by txid`);
    expect(listed.map((r) => BigInt(r.txid))).toEqual([oldCursor + 1n]);
    await queryRows(t.db, sql`delete from webhook_fanout_restored`);
    for (const x of [e, late]) await deleteWebhookEndpoint(t.db, admin, x.view.id, meta);
  });

  it("fans out an event whose transaction began before another's and commits after it (PostgreSQL: two connections)", async () => {
    const e = await endpoint({ eventTypes: ["device.registered"] });
    if (t.backend === "postgres") {
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      let written = () => {};
      const wrote = new Promise<void>((r) => (written = r));
      // "early" writes its event (and so takes its transaction id) first and stays open …
      const early = t.db.transaction(async (tx) => {
        await recordAudit(tx, deviceRegistered("early"), meta);
        written();
        await held;
      });
      await wrote;
      // … "late" takes a later id and commits first.
      await t.db.transaction((tx) => recordAudit(tx, deviceRegistered("late"), meta));
      // The open transaction holds the horizon below "late": nothing is fanned out past it yet, so
      // the cursor cannot move beyond "early" while it might still commit.
      expect(await fanOutAll(t.db)).toBe(0);
      expect(await deliveriesOf(e.view.id)).toEqual([]);
      release();
      await early;
    } else {
      // PGlite runs one transaction at a time: commits come in order.
      await t.db.transaction((tx) => recordAudit(tx, deviceRegistered("early"), meta));
      await t.db.transaction((tx) => recordAudit(tx, deviceRegistered("late"), meta));
    }
    expect(await fanOutAll(t.db)).toBe(2);
    expect(await deliveredDevices(e.view.id)).toEqual(["early", "late"]);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("fans each event out exactly once while writers commit and two instances fan out at once", async () => {
    const a = await endpoint({ eventTypes: ["device.registered"] });
    const b = await endpoint({ eventTypes: ["device.registered"] });
    // On PostgreSQL a second pool (another instance) and overlapping writer transactions; PGlite has
    // one connection and runs them one at a time.
    const second: DatabaseHandle | null = t.backend === "postgres" ? await openDatabase({ databaseUrl: t.url!, maxConnections: 4 }) : null;
    const WRITERS = 60;
    let writing = true;
    const runs: number[] = [];
    const fanner = async (db: typeof t.db) => {
      while (writing) {
        runs.push((await fanOutWebhookEvents(db)).deliveries);
        // Let timers run: PGlite answers without leaving the microtask queue, so the writers' waits would never end.
        await new Promise((r) => setImmediate(r));
      }
    };
    try {
      if (second) await queryRows(second.db, sql`select 1`); // connected before the writers start
      const fanners = [fanner(t.db), fanner(second?.db ?? t.db)];
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i * 15)); // spread over a second, so fan-outs run amid them
          await t.db.transaction(async (tx) => {
            await recordAudit(tx, deviceRegistered(`w-${i}-a`), meta);
            // Hold some transactions open a moment so that commits come out of txid order.
            if (i % 3 === 0) await new Promise((r) => setTimeout(r, 30 + (i % 7) * 5));
            await recordAudit(tx, deviceRegistered(`w-${i}-b`), meta);
          });
        }),
      );
      writing = false;
      await Promise.all(fanners);
      await fanOutAll(t.db);
    } finally {
      writing = false;
      await second?.close();
    }
    expect(runs.length).toBeGreaterThan(1);
    const expected = Array.from({ length: WRITERS }, (_, i) => [`w-${i}-a`, `w-${i}-b`])
      .flat()
      .sort();
    for (const e of [a, b]) expect(await deliveredDevices(e.view.id)).toEqual(expected);
    const [dupes] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from (select 1 from webhook_deliveries group by message_id, endpoint_id having count(*) > 1) d`,
    );
    expect(Number(dupes!.n)).toBe(0);
    for (const e of [a, b]) await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });
});

describe("delivery", () => {
  async function userEvents(n: number) {
    const { actor } = await apiKey();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await createUser(t.db, actor, { client_user_id: `d-${Math.random()}` }, meta)).id);
    return ids;
  }

  it("signs every delivery so that standardwebhooks verifies it, and records the outcome", async () => {
    const e = await endpoint({ eventTypes: ["user.created"] });
    receiver.setSecrets([e.secret]);
    receiver.respondWith(() => 204);
    receiver.received.length = 0;
    const [userId] = await userEvents(1);
    const result = await dispatch();
    expect(result).toMatchObject({ claimed: 1, succeeded: 1, retrying: 0, failed: 0 });
    const [row] = await deliveriesOf(e.view.id);
    expect(receiver.received).toHaveLength(1);
    const hook = receiver.received[0]!;
    expect(hook).toMatchObject({ id: row!.messageId, verified: true, path: e.path, status: 204 });
    expect(hook.payload).toMatchObject({ type: "user.created", version: 1, data: { user_id: userId } });
    expect(row).toMatchObject({ status: "succeeded", attempts: 1, lastResponseStatus: 204, lastError: null, nextAttemptAt: null });
    expect(row!.deliveredAt).not.toBeNull();
    expect((await getWebhookEndpoint(t.db, admin, e.view.id)).lastSuccessAt).not.toBeNull();
    // Nothing is sent twice.
    expect((await dispatch()).claimed).toBe(0);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("loses nothing while the receiver is down and retries with the same webhook-id", async () => {
    const e = await endpoint({ eventTypes: ["user.created"] });
    receiver.setSecrets([e.secret]);
    receiver.respondWith((_h, seen) => (seen === 1 && _h.payload?.data.client_user_id && String(_h.payload.data.client_user_id).endsWith("5") ? 500 : 204));
    receiver.received.length = 0;
    await receiver.down();
    await userEvents(20);
    const t0 = new Date();
    const down = await dispatch({ now: () => t0 });
    expect(down).toMatchObject({ claimed: 20, succeeded: 0, retrying: 20 });
    for (const r of await deliveriesOf(e.view.id)) {
      expect(r).toMatchObject({ status: "pending", attempts: 1, lastResponseStatus: null });
      // Refused, or reset when a kept-alive connection of the receiver's previous life is reused.
      expect(r.lastError).toMatch(/^(Connection refused|The connection was reset)\.$/);
      expect(r.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(t0.getTime() + 7_500);
    }
    expect((await dispatch({ now: at(t0, 5_000) })).claimed).toBe(0); // not due yet
    await receiver.up();
    // Back up: everything due arrives; a 500 on some first arrivals is retried later, same id.
    let clock = 60_000;
    for (let round = 0; round < 5; round++, clock += 3_600_000) await dispatch({ now: at(t0, clock) });
    const rows = await deliveriesOf(e.view.id);
    expect(rows.every((r) => r.status === "succeeded")).toBe(true);
    const arrivals = new Map<string, number>();
    for (const h of receiver.received) {
      expect(h.verified).toBe(true);
      arrivals.set(h.id, (arrivals.get(h.id) ?? 0) + 1);
    }
    expect([...arrivals.keys()].sort()).toEqual(rows.map((r) => r.messageId).sort());
    // Twice only where the first arrival was answered 500, never otherwise.
    for (const h of receiver.received.filter((x) => x.status === 500)) expect(arrivals.get(h.id)).toBe(2);
    expect([...arrivals.values()].filter((n) => n === 2).length).toBe(receiver.received.filter((x) => x.status === 500).length);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("retries 429 no sooner than Retry-After, and does not retry 400 or a redirect", async () => {
    const e = await endpoint({ eventTypes: ["user.created"] });
    receiver.setSecrets([e.secret]);
    const answers = [{ status: 429, headers: { "retry-after": "3600" } }, 400, 302];
    receiver.respondWith(() => answers.shift() ?? 204);
    await userEvents(3);
    const t0 = new Date();
    expect(await dispatch({ now: () => t0, concurrency: 1 })).toMatchObject({ claimed: 3, retrying: 1, failed: 2 });
    const rows = await deliveriesOf(e.view.id);
    const limited = rows.find((r) => r.lastResponseStatus === 429)!;
    expect(limited.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(t0.getTime() + 3_600_000);
    expect(rows.find((r) => r.lastResponseStatus === 400)).toMatchObject({ status: "failed", nextAttemptAt: null, lastError: "The endpoint answered 400." });
    expect(rows.find((r) => r.lastResponseStatus === 302)).toMatchObject({ status: "failed" });
    expect((await dispatch({ now: at(t0, 3_000_000) })).claimed).toBe(0);
    expect(await dispatch({ now: at(t0, 3_700_000) })).toMatchObject({ claimed: 1, succeeded: 1 });
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("gives up after about a day, and disables an endpoint that failed for a day, audited and listed for the banner", async () => {
    const e = await endpoint({ eventTypes: ["user.created"] });
    receiver.setSecrets([e.secret]);
    receiver.respondWith(() => 503);
    await userEvents(1);
    const t0 = new Date();
    let clock = 0;
    for (let i = 0; i < 40; i++) {
      await dispatch({ now: at(t0, clock), random: () => 0.5 });
      const [row] = await deliveriesOf(e.view.id);
      if (row!.status !== "pending") break;
      clock = row!.nextAttemptAt!.getTime() - t0.getTime();
    }
    const [row] = await deliveriesOf(e.view.id);
    expect(row!.status).toBe("failed");
    expect(row!.attempts).toBeGreaterThanOrEqual(12);
    expect(row!.attempts).toBeLessThanOrEqual(20);
    expect(row!.lastError).toMatch(/^Gave up after \d+ attempts over a day\. The endpoint answered 503\./);
    // The last attempt is the one at retry_until, a day after the event.
    expect(row!.lastAttemptAt!.getTime()).toBe(row!.retryUntil.getTime());

    const view = await getWebhookEndpoint(t.db, admin, e.view.id);
    expect(view).toMatchObject({ enabled: false, disabledReason: "failing" });
    expect((await failingEndpoints(t.db, admin)).map((x) => x.id)).toContain(e.view.id);
    expect(await auditActions(e.view.id)).toEqual(["webhook_endpoint.created", "webhook_endpoint.auto_disabled"]);
    // Disabled: new events are not fanned out to it; enabling gives it a fresh day.
    await userEvents(1);
    await fanOutAll(t.db);
    expect(await deliveriesOf(e.view.id)).toHaveLength(1);
    const enabled = await setWebhookEndpointEnabled(t.db, admin, e.view.id, true, meta);
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    expect((await failingEndpoints(t.db, admin)).map((x) => x.id)).not.toContain(e.view.id);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("refuses loopback, private and link-local destinations after DNS unless private addresses are allowed", async () => {
    const e = await endpoint({ eventTypes: ["user.created"] });
    receiver.setSecrets([e.secret]);
    receiver.respondWith(() => 204);
    receiver.received.length = 0;
    const cases: Array<[string, RegExp]> = [
      ["127.0.0.1", /receiver\.test \(127\.0\.0\.1\): it is a loopback address/],
      ["10.20.30.40", /receiver\.test \(10\.20\.30\.40\): it is a private address/],
      ["169.254.169.254", /receiver\.test \(169\.254\.169\.254\): it is a link-local address/],
    ];
    for (const [address, message] of cases) {
      await userEvents(1);
      const result = await dispatchDueDeliveries(t.db, { allowPrivate: false, resolve: async () => [{ address, family: 4 }] });
      expect(result).toMatchObject({ claimed: 1, failed: 1 });
      const rows = await deliveriesOf(e.view.id);
      const last = rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0]!;
      expect(last).toMatchObject({ status: "failed", lastResponseStatus: null });
      expect(last.lastError).toMatch(message);
    }
    expect(receiver.received).toEqual([]);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("signs with both secrets during a rotation's overlap, then with the new one only", async () => {
    const e = await endpoint({ eventTypes: ["user.created"] });
    const t0 = new Date();
    const rotated = await rotateWebhookSecret(t.db, admin, e.view.id, { overlapSeconds: 3600, now: t0 }, meta);
    receiver.respondWith(() => 204);
    receiver.received.length = 0;
    receiver.setSecrets([e.secret]); // a receiver that has not switched yet
    await userEvents(1);
    await dispatch({ now: at(t0, 60_000) });
    expect(receiver.received.map((h) => [h.verified, h.signature.split(" ").length])).toEqual([[true, 2]]);
    receiver.setSecrets([rotated.secret]); // and one that has
    await replayDelivery(t.db, admin, (await deliveriesOf(e.view.id))[0]!.id, meta, { now: at(t0, 60_000)() });
    await dispatch({ now: at(t0, 61_000) });
    expect(receiver.received[1]).toMatchObject({ verified: true });
    // After the overlap the old secret no longer signs.
    receiver.setSecrets([e.secret]);
    await userEvents(1);
    await dispatch({ now: at(t0, 3_700_000) });
    expect(receiver.received[2]).toMatchObject({ verified: false, status: 401 });
    expect(receiver.received[2]!.signature.split(" ")).toHaveLength(1);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });

  it("replays a delivery with the same webhook-id, sends test events, and pages deliveries newest first", async () => {
    const e = await endpoint({ eventTypes: ["user.created"] });
    receiver.setSecrets([e.secret]);
    receiver.respondWith(() => 204);
    receiver.received.length = 0;
    const test = await sendTestEvent(t.db, admin, e.view.id, meta);
    expect(test).toMatchObject({ eventType: "webhook.test", status: "pending" });
    await dispatch();
    expect(receiver.received[0]).toMatchObject({ id: test.messageId, verified: true, payload: { type: "webhook.test", data: { endpoint_id: e.view.id } } });
    const replayed = await replayDelivery(t.db, admin, test.id, meta);
    expect(replayed).toMatchObject({ status: "pending", messageId: test.messageId, attempts: 0 });
    await rejects(replayDelivery(t.db, admin, test.id, meta), 409, "webhook_delivery_pending");
    await dispatch();
    expect(receiver.received.map((h) => h.id)).toEqual([test.messageId, test.messageId]);
    expect(await auditActions(e.view.id)).toEqual(["webhook_endpoint.created", "webhook_endpoint.test_sent", "webhook_delivery.replayed"]);
    await rejects(replayDelivery(t.db, admin, "00000000-0000-4000-8000-000000000000", meta), 404, "webhook_delivery_not_found");

    await userEvents(27);
    await fanOutAll(t.db);
    const first = await listDeliveries(t.db, staff("auditor"), e.view.id);
    expect(first.deliveries).toHaveLength(25);
    const second = await listDeliveries(t.db, admin, e.view.id, { cursor: first.nextCursor });
    expect(second.deliveries).toHaveLength(3);
    expect(second.nextCursor).toBeNull();
    const all = [...first.deliveries, ...second.deliveries];
    expect(new Set(all.map((d) => d.id)).size).toBe(28);
    expect(all.at(-1)!.eventType).toBe("webhook.test");

    await setWebhookEndpointEnabled(t.db, admin, e.view.id, false, meta);
    await rejects(sendTestEvent(t.db, admin, e.view.id, meta), 409, "webhook_endpoint_disabled");
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });
});

describe("two dispatchers", () => {
  it("deliver 1,000 events between them with no webhook-id sent twice except a retry after a failure", async () => {
    const e = await endpoint({ eventTypes: ["device.registered"] });
    receiver.setSecrets([e.secret]);
    // Every 50th event fails its first arrival (500): that one, and only that one, arrives twice.
    const failFirst = new Set<string>();
    receiver.respondWith((h, seen) => {
      if (seen === 1 && Number(String(h.payload?.data.device_id).split("-")[1]) % 50 === 0) {
        failFirst.add(h.id);
        return 500;
      }
      return 204;
    });
    receiver.received.length = 0;
    for (let batch = 0; batch < 10; batch++) {
      await t.db.transaction((tx) =>
        recordAudits(
          tx,
          Array.from({ length: 100 }, (_, i) => deviceRegistered(`device-${batch * 100 + i}`)),
          meta,
        ),
      );
    }
    // Two instances: on PostgreSQL two separate connection pools; PGlite has one connection.
    const second: DatabaseHandle | null = t.backend === "postgres" ? await openDatabase({ databaseUrl: t.url!, maxConnections: 10 }) : null;
    const other = second?.db ?? t.db;
    const opts = { allowPrivate: true, resolve: loopback, pollMs: 50, concurrency: 16 };
    const loops = [startWebhookDispatcher(t.db, opts), startWebhookDispatcher(other, opts)];
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [r] = await queryRows<{ done: number; retrying: number }>(
        t.db,
        sql`select count(*) filter (where status = 'succeeded')::int as done, count(*) filter (where status = 'pending' and attempts > 0)::int as retrying
            from webhook_deliveries where endpoint_id = ${e.view.id}::uuid`,
      );
      if (Number(r!.done) + Number(r!.retrying) >= 1000 && receiver.received.length >= 1000) break;
      if (Date.now() > deadline) throw new Error(`only ${r!.done} delivered in 2 minutes`);
      await new Promise((res) => setTimeout(res, 100));
    }
    await Promise.all(loops.map((l) => l.stop()));
    // Both took a share of the work.
    for (const l of loops) expect(l.stats().claimed).toBeGreaterThan(50);
    // The failed first arrivals are retried later (backoff); deliver them now on the injected clock.
    await dispatch({ now: at(new Date(), 3_600_000) });
    await second?.close();

    const counts = new Map<string, number>();
    for (const h of receiver.received) {
      expect(h.verified).toBe(true);
      counts.set(h.id, (counts.get(h.id) ?? 0) + 1);
    }
    expect(counts.size).toBe(1000);
    expect(failFirst.size).toBe(20);
    for (const [id, n] of counts) expect(n, id).toBe(failFirst.has(id) ? 2 : 1);
    const [r] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${e.view.id}::uuid and status = 'succeeded'`,
    );
    expect(Number(r!.n)).toBe(1000);
    const twice = await t.db
      .select({ attempts: webhookDeliveries.attempts })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, e.view.id), eq(webhookDeliveries.attempts, 2)));
    expect(twice).toHaveLength(20);
    await deleteWebhookEndpoint(t.db, admin, e.view.id, meta);
  });
});
