/**
 * The IDV handoff core (lib/idv) on a real database: tokens stored only as hashes, one session per
 * token, a token reaching only its own session, step capture and submit, staff rules, cancel,
 * short links, and expiry with an injected clock (no sleeping).
 */
import { and, eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { auditEvents, ephemeralTokens, idvSessionSteps, idvSessions } from "@/db/schema";
import { apiKeyActor, createApiKey } from "@/lib/api-keys";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import {
  cancelHandoff,
  createDeeplink,
  createWorkflow,
  decodeHandoffCursor,
  getHandoff,
  handoffImage,
  handoffUrl,
  issueHandoff,
  listHandoffs,
  listWorkflows,
  mintEphemeralToken,
  parseCaptureTarget,
  readSessionWithKey,
  readSessionWithToken,
  resolveHandoff,
  resolveShortLink,
  startSession,
  submitSession,
  submitStep,
  sweepExpiredIdv,
  type WorkflowView,
} from "@/lib/idv";
import { createStaff } from "@/lib/staff/staff";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";

const BASE = "https://td.example.com";
const meta: RequestMeta = { requestId: "req-idv", ip: "203.0.113.9", userAgent: "vitest" };
const system = systemActor("test");
const staff = (role: "admin" | "support" | "qa" | "auditor"): Actor => ({
  type: "staff",
  id: `00000000-0000-4000-8000-00000000000${role.length}`,
  name: `${role}@example.com`,
  role,
});
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e7c9f60000000049454e44ae426082",
  "hex",
);

let t: TestDatabase;
let wf: WorkflowView;
let keyActor: Actor;

beforeEach(async () => {
  t = await createTestDatabase();
  wf = await createWorkflow(t.db, system, { name: "ID and selfie and form", steps: ["document", "selfie", "form"] }, meta);
  const key = await createApiKey(
    t.db,
    system,
    { name: "backend", environment: "sandbox", region: "us", scopes: ["ephemeral_devices:write", "sessions:read"] },
    meta,
  );
  keyActor = apiKeyActor((await t.db.query.apiKeys.findFirst())!);
  expect(keyActor.id).toBe(key.apiKey.id);
});
afterEach(async () => {
  await t.close();
});

async function count(table: "ephemeral_tokens" | "idv_sessions" | "idv_session_steps" | "audit_events", where = sql`true`) {
  const [r] = await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from ${sql.identifier(table)} where ${where}`);
  return Number(r!.n);
}

async function newSession(now = new Date()) {
  const minted = await mintEphemeralToken(t.db, keyActor, { ttl: 600 }, meta, now);
  const session = await startSession(t.db, minted.authorization, { workflowId: wf.id, metadata: { externalUserId: "ext-1" } }, meta, now);
  return { token: minted.authorization, session, minted };
}

async function completeSteps(token: string, id: string, now = new Date()) {
  await submitStep(t.db, token, id, "document", { kind: "image", bytes: PNG }, meta, now);
  await submitStep(t.db, token, id, "selfie", { kind: "image", bytes: PNG }, meta, now);
  await submitStep(t.db, token, id, "form", { kind: "fields", fields: { fullName: "Ada Lovelace", dateOfBirth: "1815-12-10" } }, meta, now);
}

const rejects = async (p: Promise<unknown>, status: number, code: string) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${status} ${code}`).toBeInstanceOf(DomainError);
  expect({ status: (err as DomainError).status, code: (err as DomainError).code }).toEqual({ status, code });
};

describe("ephemeral tokens", () => {
  it("mints a token whose clear text is stored nowhere, and audits the mint", async () => {
    const now = new Date("2030-01-01T00:00:00.123Z");
    const minted = await mintEphemeralToken(t.db, keyActor, { ttl: 3600 }, meta, now);
    expect(minted.authorization).toMatch(/^et_[0-9a-f]{32}\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(minted.expiresAt).toBe("2030-01-01T01:00:00.000Z");
    const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
    const dump = json(await t.db.select().from(ephemeralTokens)) + json(await t.db.select().from(auditEvents));
    expect(dump).not.toContain(minted.authorization);
    expect(dump).not.toContain(minted.authorization.split(".")[2]);
    const [ev] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "ephemeral_token.minted"));
    expect(ev).toMatchObject({ actorType: "api_key", environment: "sandbox", targetType: "ephemeral_token" });
  });

  it("refuses a ttl out of 60..86400 and writes nothing", async () => {
    const before = await databaseDigest(t.db);
    for (const ttl of [59, 86_401, 1.5, -1]) await rejects(mintEphemeralToken(t.db, keyActor, { ttl }, meta), 422, "validation_failed");
    await expectUnchanged(t.db, before);
  });

  it("refuses a key without ephemeral_devices:write", async () => {
    await rejects(
      mintEphemeralToken(t.db, { ...(keyActor as Extract<Actor, { type: "api_key" }>), scopes: ["sessions:read"] }, {}, meta),
      403,
      "insufficient_scope",
    );
  });

  it("tells a forged token (invalid_token) from an expired one (token_expired)", async () => {
    const { token, session } = await newSession();
    const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    await rejects(readSessionWithToken(t.db, forged, session.id), 401, "invalid_token");
    await rejects(readSessionWithToken(t.db, "not-a-token", session.id), 401, "invalid_token");
    await rejects(readSessionWithToken(t.db, token, session.id, new Date(Date.now() + 601_000)), 401, "token_expired");
  });
});

describe("sessions", () => {
  it("starts one session per token, with the contract's fields", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const minted = await mintEphemeralToken(t.db, keyActor, { ttl: 600 }, meta, now);
    const s = await startSession(t.db, minted.authorization, { workflowId: wf.id, metadata: { externalUserId: "ext-1" } }, meta, now);
    expect(s).toEqual({
      id: s.id,
      workflowId: wf.id,
      status: "created",
      metadata: { externalUserId: "ext-1" },
      createdAt: "2030-01-01T00:00:00.000Z",
      expiresAt: "2030-01-01T00:10:00.000Z",
    });
    await rejects(startSession(t.db, minted.authorization, { workflowId: wf.id }, meta, now), 409, "session_already_started");
    expect(await count("idv_sessions")).toBe(1);
  });

  it("answers 404 for an unknown workflow and leaves the token unused", async () => {
    const minted = await mintEphemeralToken(t.db, keyActor, { ttl: 600 }, meta);
    await rejects(startSession(t.db, minted.authorization, { workflowId: "wf_nope" }, meta), 404, "workflow_not_found");
    expect(await count("idv_sessions")).toBe(0);
    expect(await count("audit_events", sql`action = 'idv_session.started'`)).toBe(0);
    const s = await startSession(t.db, minted.authorization, { workflowId: wf.id }, meta);
    expect(s.status).toBe("created");
  });

  it("lets a token reach only its own session, without revealing that others exist", async () => {
    const a = await newSession();
    const b = await newSession();
    await rejects(readSessionWithToken(t.db, a.token, b.session.id), 404, "session_not_found");
    await rejects(readSessionWithToken(t.db, a.token, "0190aaaa-0000-7000-8000-000000000000"), 404, "session_not_found");
    await rejects(submitStep(t.db, a.token, b.session.id, "document", { kind: "image", bytes: PNG }, meta), 404, "session_not_found");
    await rejects(submitSession(t.db, a.token, b.session.id, meta), 404, "session_not_found");
    expect(await count("idv_session_steps")).toBe(0);
    const own = await readSessionWithToken(t.db, a.token, a.session.id);
    expect(own.steps.map((s) => [s.id, s.completed])).toEqual([
      ["document", false],
      ["selfie", false],
      ["form", false],
    ]);
  });

  it("reads a step's upload only once the token owns the session and the step exists (a bogus token's body is never read)", async () => {
    const { token, session } = await newSession();
    const other = await newSession();
    let reads = 0;
    const reader = async () => {
      reads++;
      return { kind: "image" as const, bytes: PNG };
    };
    await rejects(submitStep(t.db, "et_bogus", session.id, "document", reader, meta), 401, "invalid_token");
    await rejects(submitStep(t.db, null, session.id, "document", reader, meta), 401, "invalid_token");
    await rejects(submitStep(t.db, other.token, session.id, "document", reader, meta), 404, "session_not_found");
    await rejects(submitStep(t.db, token, session.id, "nope", reader, meta), 404, "step_not_found");
    expect(reads).toBe(0);
    await submitStep(t.db, token, session.id, "document", reader, meta);
    expect(reads).toBe(1);
    expect(await count("idv_session_steps")).toBe(1);
  });

  it("captures steps, validates photos by their bytes and forms by their definition, then submits once", async () => {
    const { token, session } = await newSession();
    await rejects(
      submitStep(t.db, token, session.id, "document", { kind: "image", bytes: Buffer.from("GIF89a not allowed") }, meta),
      415,
      "unsupported_media_type",
    );
    await rejects(submitStep(t.db, token, session.id, "document", { kind: "fields", fields: {} }, meta), 415, "unsupported_media_type");
    await rejects(submitStep(t.db, token, session.id, "form", { kind: "fields", fields: { fullName: "Ada" } }, meta), 422, "validation_failed");
    await rejects(
      submitStep(t.db, token, session.id, "form", { kind: "fields", fields: { fullName: "Ada", dateOfBirth: "1815-02-30" } }, meta),
      422,
      "validation_failed",
    );
    await rejects(
      submitStep(t.db, token, session.id, "form", { kind: "fields", fields: { fullName: "Ada", dateOfBirth: "1815-12-10", email: "nope" } }, meta),
      422,
      "validation_failed",
    );
    await rejects(
      submitStep(t.db, token, session.id, "form", { kind: "fields", fields: { fullName: "Ada", dateOfBirth: "1815-12-10", ssn: "1" } }, meta),
      422,
      "validation_failed",
    );
    // A date of birth in the future is refused, in words the phone shows at the field (issue 14, point 10).
    const future = await submitStep(t.db, token, session.id, "form", { kind: "fields", fields: { fullName: "Ada", dateOfBirth: "2999-01-01" } }, meta).catch(
      (e: unknown) => e,
    );
    expect(future).toMatchObject({ status: 422, code: "validation_failed", message: "Date of birth cannot be in the future." });
    await rejects(submitStep(t.db, token, session.id, "nope", { kind: "fields", fields: {} }, meta), 404, "step_not_found");
    expect(await count("idv_session_steps")).toBe(0);
    expect((await readSessionWithToken(t.db, token, session.id)).status).toBe("created");

    await submitStep(t.db, token, session.id, "document", { kind: "image", bytes: PNG }, meta);
    expect((await readSessionWithToken(t.db, token, session.id)).status).toBe("in_progress");
    await rejects(submitSession(t.db, token, session.id, meta), 422, "steps_incomplete");
    await completeSteps(token, session.id);
    const done = await submitSession(t.db, token, session.id, meta);
    expect(done.status).toBe("submitted");
    expect(done.submittedAt).not.toBeNull();
    await rejects(submitSession(t.db, token, session.id, meta), 409, "session_closed");
    await rejects(submitStep(t.db, token, session.id, "document", { kind: "image", bytes: PNG }, meta), 409, "session_closed");
    expect(await count("audit_events", sql`action = 'idv_session.submitted'`)).toBe(1);
    const [img] = await t.db
      .select()
      .from(idvSessionSteps)
      .where(and(eq(idvSessionSteps.sessionId, session.id), eq(idvSessionSteps.stepId, "selfie")));
    expect(img!.imageContentType).toBe("image/png");
    expect(Buffer.compare(img!.image!, PNG)).toBe(0);
  });

  it("lets a sessions:read key of the same environment read it, and no other key", async () => {
    const { session } = await newSession();
    expect((await readSessionWithKey(t.db, keyActor, session.id)).id).toBe(session.id);
    const prod = { ...(keyActor as Extract<Actor, { type: "api_key" }>), environment: "production" };
    await rejects(readSessionWithKey(t.db, prod, session.id), 404, "session_not_found");
    await rejects(
      readSessionWithKey(t.db, { ...(keyActor as Extract<Actor, { type: "api_key" }>), scopes: ["ephemeral_devices:write"] }, session.id),
      403,
      "insufficient_scope",
    );
  });

  it("starts exactly one session when a token is used concurrently", async () => {
    const minted = await mintEphemeralToken(t.db, keyActor, { ttl: 600 }, meta);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => startSession(t.db, minted.authorization, { workflowId: wf.id }, meta)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as DomainError).code).toBe("session_already_started");
    expect(await count("idv_sessions")).toBe(1);
  });
});

describe("handoff links", () => {
  it("builds the vendor's URL byte for byte and the deeplink in one call", async () => {
    expect(handoffUrl(BASE, "et_x.y.z", "0190aaaa-0000-7000-8000-000000000000")).toBe(
      "https://td.example.com/capture?url=https%3A%2F%2Ftd.example.com%2Fmobile%3Fauthorization%3Det_x.y.z%26sessionId%3D0190aaaa-0000-7000-8000-000000000000",
    );
    const link = await createDeeplink(t.db, keyActor, BASE, wf.id, { metadata: { externalUserId: "ext-9" }, ttl: 120 }, meta);
    expect(Object.keys(link).sort()).toEqual(["createdAt", "expiresAt", "url", "workflowIds"]);
    expect(link.workflowIds).toEqual([wf.id]);
    const target = parseCaptureTarget(BASE, new URL(link.url).searchParams.get("url"));
    expect(target).not.toBeNull();
    expect(link.url).toBe(handoffUrl(BASE, target!.token, target!.sessionId));
    expect((await readSessionWithToken(t.db, target!.token, target!.sessionId)).metadata).toEqual({ externalUserId: "ext-9" });
  });

  it("refuses a capture target that is not PUBLIC_URL/mobile", () => {
    for (const bad of [
      "https://evil.example/mobile?authorization=et_a&sessionId=0190aaaa-0000-7000-8000-000000000000",
      "https://td.example.com.evil.example/mobile?authorization=et_a&sessionId=0190aaaa-0000-7000-8000-000000000000",
      "http://td.example.com/mobile?authorization=et_a&sessionId=0190aaaa-0000-7000-8000-000000000000",
      "https://td.example.com/login?authorization=et_a&sessionId=0190aaaa-0000-7000-8000-000000000000",
      "https://user@td.example.com/mobile?authorization=et_a&sessionId=0190aaaa-0000-7000-8000-000000000000",
      "//evil.example/mobile",
      "javascript:alert(1)",
      "",
    ]) {
      expect(parseCaptureTarget(BASE, bad), bad).toBeNull();
    }
  });

  it("short link leads to the handoff while it is live, then says why not", async () => {
    const h = await issueHandoff(
      t.db,
      staff("support"),
      BASE,
      { externalUserId: "ext-2", environment: "sandbox", workflowId: wf.id, ttl: 600, reason: "customer on the phone" },
      meta,
    );
    const code = h.shortUrl.split("/h/")[1]!;
    const live = await resolveShortLink(t.db, BASE, code);
    expect(live.ok && live.url).toBe(h.url);
    expect(JSON.stringify(await t.db.select().from(idvSessions))).not.toContain(code);
    expect(await resolveShortLink(t.db, BASE, "A".repeat(22))).toEqual({ ok: false, reason: "invalid" });
    expect((await resolveShortLink(t.db, BASE, code, new Date(Date.now() + 601_000))).ok).toBe(false);

    const target = parseCaptureTarget(BASE, new URL(h.url).searchParams.get("url"))!;
    await completeSteps(target.token, target.sessionId);
    await submitSession(t.db, target.token, target.sessionId, meta);
    expect(await resolveShortLink(t.db, BASE, code)).toEqual({ ok: false, reason: "submitted" });
    expect(await resolveHandoff(t.db, target.token, target.sessionId)).toEqual({ ok: false, reason: "submitted" });
  });
});

describe("staff", () => {
  const input = { externalUserId: "ext-3", environment: "sandbox" as const, workflowId: "", ttl: 600, reason: "QA scan" };

  it("needs a reason, keeps QA in sandbox and refuses auditors, writing nothing", async () => {
    const before = await databaseDigest(t.db);
    await rejects(issueHandoff(t.db, staff("support"), BASE, { ...input, workflowId: wf.id, reason: " " }, meta), 422, "reason_required");
    await rejects(issueHandoff(t.db, staff("qa"), BASE, { ...input, workflowId: wf.id, environment: "production" }, meta), 403, "forbidden");
    await rejects(issueHandoff(t.db, staff("auditor"), BASE, { ...input, workflowId: wf.id }, meta), 403, "forbidden");
    await rejects(issueHandoff(t.db, staff("support"), BASE, { ...input, workflowId: "wf_missing" }, meta), 404, "workflow_not_found");
    await expectUnchanged(t.db, before);
    const ok = await issueHandoff(t.db, staff("qa"), BASE, { ...input, workflowId: wf.id }, meta);
    expect(ok.session.status).toBe("created");
    const [ev] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "ephemeral_token.minted"));
    expect(ev).toMatchObject({ actorType: "staff", reason: "QA scan", environment: "sandbox" });
  });

  it("issues for a tokendesk user in the user's environment and region, not for a disabled or unknown one", async () => {
    const { users } = await import("@/db/schema");
    const ids = ["0190aaaa-0000-7000-8000-0000000000a1", "0190aaaa-0000-7000-8000-0000000000a2"];
    await t.db.insert(users).values([
      { id: ids[0]!, environment: "production", region: "eu", clientUserId: "client-eu-1", name: "Eun Park", email: "eun@example.test" },
      { id: ids[1]!, environment: "sandbox", region: "us", clientUserId: "client-off", disabledAt: new Date() },
    ]);
    const h = await issueHandoff(t.db, staff("support"), BASE, { userId: ids[0]!, workflowId: wf.id, ttl: 600, reason: "user asked" }, meta);
    const [row] = await t.db.select().from(idvSessions).where(eq(idvSessions.id, h.session.id));
    expect(row).toMatchObject({ environment: "production", region: "eu", userId: ids[0], externalUserId: "client-eu-1" });
    expect(h.session.metadata).toEqual({ externalUserId: "client-eu-1" });
    // Lists and pages name the person, not an id (issue 14, point 6).
    const person = { name: "Eun Park", clientUserId: "client-eu-1", email: "eun@example.test" };
    expect((await listHandoffs(t.db, staff("auditor"), {})).handoffs.find((x) => x.id === h.session.id)).toMatchObject({ userId: ids[0], person });
    expect((await getHandoff(t.db, staff("auditor"), h.session.id)).person).toEqual(person);
    const external = await issueHandoff(
      t.db,
      staff("support"),
      BASE,
      { externalUserId: "ext-77", environment: "sandbox", workflowId: wf.id, ttl: 600, reason: "x" },
      meta,
    );
    expect((await getHandoff(t.db, staff("auditor"), external.session.id)).person).toBeNull();
    await rejects(issueHandoff(t.db, staff("qa"), BASE, { userId: ids[0]!, workflowId: wf.id, ttl: 600, reason: "qa" }, meta), 403, "forbidden");
    await rejects(issueHandoff(t.db, staff("support"), BASE, { userId: ids[1]!, workflowId: wf.id, ttl: 600, reason: "x" }, meta), 409, "user_disabled");
    await rejects(
      issueHandoff(t.db, staff("support"), BASE, { userId: "0190aaaa-0000-7000-8000-0000000000ff", workflowId: wf.id, ttl: 600, reason: "x" }, meta),
      404,
      "user_not_found",
    );
    await rejects(
      issueHandoff(t.db, staff("support"), BASE, { userId: ids[0]!, externalUserId: "both", workflowId: wf.id, ttl: 600, reason: "x" }, meta),
      422,
      "validation_failed",
    );
    expect(await count("idv_sessions")).toBe(2);
  });

  it("lists with filters and keyset pages, shows captured data to auditors, hides production from QA", async () => {
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(await issueHandoff(t.db, staff("support"), BASE, { ...input, workflowId: wf.id, environment: i % 2 ? "production" : "sandbox" }, meta));
    const first = await listHandoffs(t.db, staff("auditor"), {}, { limit: 2 });
    expect(first.handoffs).toHaveLength(2);
    const second = await listHandoffs(t.db, staff("auditor"), {}, { limit: 2, cursor: decodeHandoffCursor(first.nextCursor) });
    expect(second.handoffs).toHaveLength(2);
    expect(second.handoffs.map((h) => h.id)).not.toContain(first.handoffs[0]!.id);
    expect(second.handoffs.map((h) => h.id)).not.toContain(first.handoffs[1]!.id);
    expect((await listHandoffs(t.db, staff("qa"), {})).handoffs.every((h) => h.environment === "sandbox")).toBe(true);
    expect((await listHandoffs(t.db, staff("support"), { environment: "production" })).handoffs).toHaveLength(2);
    expect((await listHandoffs(t.db, staff("support"), { status: "submitted" })).handoffs).toHaveLength(0);
    await rejects(getHandoff(t.db, staff("qa"), made[1]!.session.id), 404, "session_not_found");

    const target = parseCaptureTarget(BASE, new URL(made[0]!.url).searchParams.get("url"))!;
    await completeSteps(target.token, target.sessionId);
    await submitSession(t.db, target.token, target.sessionId, meta);
    const detail = await getHandoff(t.db, staff("auditor"), target.sessionId);
    expect(detail.status).toBe("submitted");
    expect(detail.steps.find((s) => s.id === "form")!.fields).toContainEqual({ name: "fullName", label: "Full name", value: "Ada Lovelace" });
    expect(detail.steps.find((s) => s.id === "document")!.image).toEqual({ contentType: "image/png", size: PNG.length });
    const img = await handoffImage(t.db, staff("auditor"), target.sessionId, "document");
    expect(img.contentType).toBe("image/png");
    expect((await listHandoffs(t.db, staff("support"), { status: "submitted" })).handoffs.map((h) => h.id)).toEqual([target.sessionId]);
  });

  it("names who issued each handoff: a staff member by name and email, a key by name, a vanished id as unknown", async () => {
    const member = await createStaff(t.db, system, { email: "pat@example.com", name: "Pat Support", role: "support" }, meta);
    const pat: Actor = { type: "staff", id: member.id, name: member.email, role: "support" };
    const byPat = await issueHandoff(t.db, pat, BASE, { ...input, workflowId: wf.id }, meta);
    const byGone = await issueHandoff(t.db, staff("support"), BASE, { ...input, workflowId: wf.id }, meta); // no staff row
    const byKey = await newSession();

    const rows = new Map((await listHandoffs(t.db, staff("auditor"), {})).handoffs.map((h) => [h.id, h]));
    expect(rows.get(byPat.session.id)).toMatchObject({
      issuedByType: "staff",
      issuedById: member.id,
      issuedByName: { name: "Pat Support", detail: "pat@example.com" },
    });
    expect(rows.get(byGone.session.id)).toMatchObject({ issuedByType: "staff", issuedByName: null });
    expect(rows.get(byKey.session.id)).toMatchObject({ issuedByType: "api_key", issuedById: keyActor.id, issuedByName: { name: "backend" } });
    expect((await getHandoff(t.db, staff("auditor"), byPat.session.id)).issuedByName).toEqual({ name: "Pat Support", detail: "pat@example.com" });
  });

  it("cancel expires the handoff at once and destroys its token", async () => {
    const h = await issueHandoff(t.db, staff("support"), BASE, { ...input, workflowId: wf.id }, meta);
    const target = parseCaptureTarget(BASE, new URL(h.url).searchParams.get("url"))!;
    await rejects(cancelHandoff(t.db, staff("auditor"), h.session.id, "no", meta), 403, "forbidden");
    await rejects(cancelHandoff(t.db, staff("support"), h.session.id, "", meta), 422, "reason_required");
    const row = await cancelHandoff(t.db, staff("support"), h.session.id, "sent to the wrong person", meta);
    expect(row.status).toBe("cancelled");
    await rejects(readSessionWithToken(t.db, target.token, target.sessionId), 401, "token_expired");
    expect(await count("ephemeral_tokens")).toBe(0);
    expect(await count("audit_events", sql`action = 'idv_session.cancelled'`)).toBe(1);
    await rejects(cancelHandoff(t.db, staff("support"), h.session.id, "again", meta), 409, "session_closed");
  });
});

describe("expiry", () => {
  it("the sweeper marks sessions expired (audited once), destroys tokens, and every later use is token_expired", async () => {
    const t0 = new Date("2030-06-01T12:00:00Z");
    const a = await newSession(t0);
    const b = await newSession(t0);
    await completeSteps(b.token, b.session.id, t0);
    await submitSession(t.db, b.token, b.session.id, meta, t0);
    const unused = await mintEphemeralToken(t.db, keyActor, { ttl: 60 }, meta, t0);

    const before = await sweepExpiredIdv(t.db, new Date(t0.getTime() + 59_000));
    expect(before).toEqual({ ran: true, sessionsExpired: 0, tokensDeleted: 0 });

    const later = new Date(t0.getTime() + 600_000);
    const [r1, r2] = await Promise.all([sweepExpiredIdv(t.db, later), sweepExpiredIdv(t.db, later)]);
    expect(r1.sessionsExpired + r2.sessionsExpired).toBe(1); // the submitted one stays submitted
    expect(r1.tokensDeleted + r2.tokensDeleted).toBe(3);
    expect(await count("ephemeral_tokens")).toBe(0);
    expect(await count("audit_events", sql`action = 'idv_session.expired'`)).toBe(1);
    const [s] = await t.db.select().from(idvSessions).where(eq(idvSessions.id, a.session.id));
    expect(s!.status).toBe("expired");

    await rejects(readSessionWithToken(t.db, a.token, a.session.id, later), 401, "token_expired");
    await rejects(startSession(t.db, unused.authorization, { workflowId: wf.id }, meta, later), 401, "token_expired");
    // Even if a clock ran behind, the destroyed token stays dead.
    await rejects(readSessionWithToken(t.db, a.token, a.session.id, t0), 401, "token_expired");
    expect(await resolveHandoff(t.db, a.token, a.session.id, later)).toEqual({ ok: false, reason: "expired" });
    expect((await readSessionWithKey(t.db, keyActor, a.session.id, later)).status).toBe("expired");
  });
});

describe("workflows", () => {
  it("are created by admins only, audited, and listed", async () => {
    await rejects(createWorkflow(t.db, staff("support"), { name: "x", steps: ["form"] }, meta), 403, "forbidden");
    await rejects(createWorkflow(t.db, staff("admin"), { name: "", steps: ["form"] }, meta), 422, "validation_failed");
    const w = await createWorkflow(t.db, staff("admin"), { name: "Two documents", steps: ["document", "document"] }, meta);
    expect(w.steps.map((s) => s.id)).toEqual(["document", "document-2"]);
    expect((await listWorkflows(t.db, staff("auditor"))).map((x) => x.name)).toEqual(["ID and selfie and form", "Two documents"]);
    expect(await count("audit_events", sql`action = 'workflow.created'`)).toBe(2);
  });
});

describe("demo seed", () => {
  it("adds two workflows and handoffs in every state", async () => {
    const { seedIdvDemo } = await import("@/lib/demo/idv");
    await seedIdvDemo(t.db);
    const rows = await queryRows<{ status: string }>(t.db, sql`select status from idv_sessions order by status`);
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(["created", "in_progress", "submitted", "expired", "cancelled"]));
    expect((await listWorkflows(t.db, system)).map((w) => w.id)).toEqual(expect.arrayContaining(["wf_id_and_selfie", "wf_full_kyc"]));
  });
});
