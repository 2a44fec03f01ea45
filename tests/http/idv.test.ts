/**
 * The IDV handoff over HTTP against a real `next start` on PostgreSQL: each answer field by field
 * against API.md, the handoff URL byte for byte, token isolation, one session per token, the
 * /capture open-redirect refusal, expiry (expires_at moved into the past in SQL, and the sweeper
 * run with an injected clock), and a bad-input matrix that writes nothing.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type DatabaseHandle, queryRows } from "@/db/client";
import { apiKeys, ephemeralTokens, idvSessions } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { sweepExpiredIdv } from "@/lib/idv/sweeper";
import { shortCodeFor } from "@/lib/idv/tokens";
import { createWorkflow } from "@/lib/idv/workflows";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";
import { mintKey, openTestDb, uniq } from "../helpers/machine-api";
import { assertDocumented } from "../helpers/openapi";

const BASE = inject("baseUrl");
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e7c9f60000000049454e44ae426082",
  "hex",
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1), Buffer.from([0xff, 0xd9])]);
const PHONE_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let h: DatabaseHandle;
let key: string; // sandbox/us, every scope
let keyId: string;
let prodKey: string; // production, every scope
let noScopeKey: string; // sandbox, users:read only
let readKey: string; // sandbox, sessions:read only
let workflowId: string;
let formWorkflowId: string;

beforeAll(async () => {
  h = await openTestDb();
  ({ key, id: keyId } = await mintKey(h));
  prodKey = (await mintKey(h, { environment: "production" })).key;
  noScopeKey = (await mintKey(h, { scopes: ["users:read"] })).key;
  readKey = (await mintKey(h, { scopes: ["sessions:read"] })).key;
  workflowId = (await createWorkflow(h.db, systemActor("http test"), { name: uniq("photo wf"), steps: ["document", "selfie"] }, NO_REQUEST)).id;
  formWorkflowId = (await createWorkflow(h.db, systemActor("http test"), { name: uniq("form wf"), steps: ["form"] }, NO_REQUEST)).id;
});
afterAll(async () => {
  await h.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

async function req(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const method = init.method ?? (body !== undefined ? "POST" : "GET");
  const res = await fetch(`${BASE}${path}`, { method, headers, body, redirect: "manual" });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* HTML */
  }
  await assertDocumented(BASE, method, path, res.status, res.headers.get("content-type"), parsed); // as /openapi.json says
  return { status: res.status, headers: res.headers, body: parsed, text };
}

function expectError(a: Answer, status: number, code: string) {
  expect(a.status, a.text).toBe(status);
  expect(Object.keys(a.body)).toEqual(["error"]);
  expect(a.body.error.code).toBe(code);
  expect(typeof a.body.error.message).toBe("string");
  expect(a.body.error.message.length).toBeGreaterThan(0);
}

async function mint(ttl?: number, k = key): Promise<string> {
  const a = await req("/api/device/ephemeral", { headers: { Authorization: k }, json: ttl === undefined ? {} : { ttl } });
  expect(a.status, a.text).toBe(200);
  return a.body.authorization;
}

async function start(token: string, wf = workflowId, metadata: unknown = { externalUserId: uniq("ext") }): Promise<Answer> {
  return req(`/api/sessions?workflowId=${encodeURIComponent(wf)}`, { headers: { Authorization: token }, json: { metadata } });
}

function upload(token: string, sessionId: string, step: string, bytes: Buffer, name = "photo.png") {
  const form = new FormData();
  form.append("image", new Blob([new Uint8Array(bytes)]), name);
  return req(`/api/sessions/${sessionId}/steps/${step}`, { method: "POST", headers: { Authorization: token }, body: form });
}

/** A digest of every table; `key` authenticates in these tests, so its once-a-minute last-use stamp is left out. */
const digest = () =>
  databaseDigest(h.db, {
    except: [{ table: "api_keys", column: "last_used_at", where: eq(apiKeys.id, keyId), because: "an authenticated request stamps its key's last use" }],
  });

const expectedHandoff = (token: string, id: string) => `${BASE}/capture?url=${encodeURIComponent(`${BASE}/mobile?authorization=${token}&sessionId=${id}`)}`;

describe("POST /api/device/ephemeral", () => {
  it("answers {authorization, expiresAt} for each of the three key header forms", async () => {
    for (const headers of [{ "X-Vital-API-Key": key }, { Authorization: `ApiKey ${key}` }, { Authorization: key }] as Array<Record<string, string>>) {
      const before = Date.now();
      const a = await req("/api/device/ephemeral", { headers, json: { ttl: 120 } });
      expect(a.status, a.text).toBe(200);
      expect(Object.keys(a.body)).toEqual(["authorization", "expiresAt"]);
      expect(a.body.authorization).toMatch(/^et_[0-9a-f]{32}\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
      expect(a.body.expiresAt).toMatch(ISO);
      const exp = Date.parse(a.body.expiresAt);
      expect(exp).toBeGreaterThan(before + 118_000);
      expect(exp).toBeLessThan(Date.now() + 121_000);
      expect(a.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("defaults the ttl to 3600 s and stores only a hash of the token", async () => {
    const a = await req("/api/device/ephemeral", { method: "POST", headers: { Authorization: key } });
    expect(a.status, a.text).toBe(200);
    expect(Date.parse(a.body.expiresAt) - Date.now()).toBeGreaterThan(3590_000);
    const rows = await queryRows<Record<string, unknown>>(h.db, sql`select * from ephemeral_tokens`);
    expect(JSON.stringify(rows)).not.toContain(a.body.authorization);
  });

  it("refuses a missing or unknown key (401) and a key without the scope (403)", async () => {
    expectError(await req("/api/device/ephemeral", { json: {} }), 401, "invalid_api_key");
    expectError(await req("/api/device/ephemeral", { headers: { Authorization: "sk_us_nope" }, json: {} }), 401, "invalid_api_key");
    expectError(await req("/api/device/ephemeral", { headers: { Authorization: noScopeKey }, json: {} }), 403, "insufficient_scope");
  });
});

describe("sessions", () => {
  it("starts a session with exactly the contract's fields, with `Authorization: <token>` or `Token <token>`", async () => {
    for (const form of ["bare", "Token"] as const) {
      const token = await mint(600);
      const ext = uniq("ext");
      const a = await req(`/api/sessions?workflowId=${workflowId}`, {
        headers: { Authorization: form === "bare" ? token : `Token ${token}` },
        json: { metadata: { externalUserId: ext } },
      });
      expect(a.status, a.text).toBe(200);
      expect(Object.keys(a.body)).toEqual(["id", "workflowId", "status", "metadata", "createdAt", "expiresAt"]);
      expect(a.body.id).toMatch(UUID);
      expect(a.body.workflowId).toBe(workflowId);
      expect(a.body.status).toBe("created");
      expect(a.body.metadata).toEqual({ externalUserId: ext });
      expect(a.body.createdAt).toMatch(ISO);
      expect(a.body.expiresAt).toMatch(ISO);
      expect(Date.parse(a.body.expiresAt) - Date.parse(a.body.createdAt)).toBeGreaterThan(598_000);
    }
  });

  it("starts at most one session per token", async () => {
    const token = await mint();
    expect((await start(token)).status).toBe(200);
    const sessions = async () => Number((await queryRows<{ n: number }>(h.db, sql`select count(*)::int as n from idv_sessions`))[0]!.n);
    const before = await sessions();
    expectError(await start(token), 409, "session_already_started");
    const racing = await Promise.all(Array.from({ length: 10 }, async () => start(await mint())));
    expect(racing.every((r) => r.status === 200)).toBe(true);
    const raced = await mint();
    const same = await Promise.all(Array.from({ length: 10 }, () => start(raced)));
    expect(same.filter((r) => r.status === 200)).toHaveLength(1);
    expect(same.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await sessions()).toBe(before + 11);
  });

  it("answers 404 for an unknown workflow and writes nothing", async () => {
    const token = await mint();
    const before = await digest();
    expectError(await start(token, "wf_does_not_exist"), 404, "workflow_not_found");
    await expectUnchanged(h.db, before);
  });

  it("GET answers its own token and a sessions:read key of its environment, with progress", async () => {
    const token = await mint();
    const s = (await start(token)).body;
    const own = await req(`/api/sessions/${s.id}`, { headers: { Authorization: token } });
    expect(own.status, own.text).toBe(200);
    expect(Object.keys(own.body)).toEqual(["id", "workflowId", "status", "metadata", "createdAt", "expiresAt", "submittedAt", "steps"]);
    expect(own.body).toMatchObject({
      id: s.id,
      workflowId,
      status: "created",
      metadata: s.metadata,
      createdAt: s.createdAt,
      expiresAt: s.expiresAt,
      submittedAt: null,
    });
    expect(own.body.steps.map((x: { id: string; completed: boolean }) => [x.id, x.completed])).toEqual([
      ["document", false],
      ["selfie", false],
    ]);
    for (const headers of [{ "X-Vital-API-Key": readKey }, { Authorization: `ApiKey ${readKey}` }, { Authorization: readKey }] as Array<
      Record<string, string>
    >) {
      const byKey = await req(`/api/sessions/${s.id}`, { headers });
      expect(byKey.status, byKey.text).toBe(200);
      expect(byKey.body.id).toBe(s.id);
    }
    expectError(await req(`/api/sessions/${s.id}`, { headers: { Authorization: prodKey } }), 404, "session_not_found");
    expectError(await req(`/api/sessions/${s.id}`, { headers: { Authorization: noScopeKey } }), 403, "insufficient_scope");
    expectError(await req(`/api/sessions/${s.id}`), 401, "invalid_token");
  });

  it("token A cannot read or write session B, and cannot tell it exists", async () => {
    const a = await mint();
    const sa = (await start(a)).body;
    const b = await mint();
    const sb = (await start(b)).body;
    const random = "0190f5c2-6c1e-7d4a-9b2f-3c4d5e6f7a8b";
    const before = await digest();
    const onB = await req(`/api/sessions/${sb.id}`, { headers: { Authorization: a } });
    const onRandom = await req(`/api/sessions/${random}`, { headers: { Authorization: a } });
    expectError(onB, 404, "session_not_found");
    expect(onB.body).toEqual(onRandom.body);
    expectError(await upload(a, sb.id, "document", PNG), 404, "session_not_found");
    expectError(await req(`/api/sessions/${sb.id}/submit`, { method: "POST", headers: { Authorization: a } }), 404, "session_not_found");
    expectError(await req(`/api/sessions/not-a-uuid`, { headers: { Authorization: a } }), 404, "session_not_found");
    await expectUnchanged(h.db, before);
    expect((await req(`/api/sessions/${sa.id}`, { headers: { Authorization: a } })).status).toBe(200);
  });

  it("captures photos (checked by their bytes) and form fields, submits once, then refuses more", async () => {
    const token = await mint();
    const s = (await start(token)).body;
    const before = await digest();
    expectError(await upload(token, s.id, "document", Buffer.from("GIF89a... not a photo"), "x.png"), 415, "unsupported_media_type");
    expectError(await upload(token, s.id, "document", Buffer.from("%PDF-1.7\n"), "x.jpg"), 415, "unsupported_media_type");
    expectError(await upload(token, s.id, "document", Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)])), 413, "payload_too_large");
    expectError(await req(`/api/sessions/${s.id}/steps/document`, { headers: { Authorization: token }, json: { fields: {} } }), 415, "unsupported_media_type");
    expectError(await req(`/api/sessions/${s.id}/submit`, { method: "POST", headers: { Authorization: token } }), 422, "steps_incomplete");
    await expectUnchanged(h.db, before);

    const doc = await upload(token, s.id, "document", PNG);
    expect(doc.status, doc.text).toBe(200);
    expect(doc.body.status).toBe("in_progress");
    const selfie = await upload(token, s.id, "selfie", JPEG, "selfie.jpg");
    expect(selfie.status, selfie.text).toBe(200);
    expect(selfie.body.steps.every((x: { completed: boolean }) => x.completed)).toBe(true);
    const sub = await req(`/api/sessions/${s.id}/submit`, { method: "POST", headers: { Authorization: token } });
    expect(sub.status, sub.text).toBe(200);
    expect(sub.body.status).toBe("submitted");
    expect(sub.body.submittedAt).toMatch(ISO);
    expectError(await req(`/api/sessions/${s.id}/submit`, { method: "POST", headers: { Authorization: token } }), 409, "session_closed");
    expectError(await upload(token, s.id, "selfie", PNG), 409, "session_closed");
    const [ev] = await queryRows<{ n: number }>(
      h.db,
      sql`select count(*)::int as n from audit_events where action = 'idv_session.submitted' and target_id = ${s.id}`,
    );
    expect(Number(ev!.n)).toBe(1);
  });

  it("validates form steps against the workflow's fields", async () => {
    const token = await mint();
    const s = (await start(token, formWorkflowId)).body;
    const path = `/api/sessions/${s.id}/steps/form`;
    const before = await digest();
    for (const fields of [
      {},
      { fullName: "Ada" },
      { fullName: "Ada", dateOfBirth: "10/12/1815" },
      { fullName: "Ada", dateOfBirth: "1815-12-10", email: "nope" },
      { fullName: 42, dateOfBirth: "1815-12-10" },
      { fullName: "Ada", dateOfBirth: "1815-12-10", extra: "x" },
    ]) {
      const a = await req(path, { headers: { Authorization: token }, json: { fields } });
      expectError(a, 422, "validation_failed");
    }
    expectError(await req(path, { headers: { Authorization: token }, json: { fields: "nope" } }), 422, "validation_failed");
    expectError(
      await req(path, { headers: { Authorization: token, "Content-Type": "application/json" }, body: "{not json", method: "POST" }),
      400,
      "invalid_json",
    );
    expectError(
      await req(path, { headers: { Authorization: token, "Content-Type": "text/plain" }, body: "fullName=Ada", method: "POST" }),
      415,
      "unsupported_media_type",
    );
    await expectUnchanged(h.db, before);
    const ok = await req(path, { headers: { Authorization: token }, json: { fields: { fullName: "Ada Lovelace", dateOfBirth: "1815-12-10" } } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.steps[0].completed).toBe(true);
  });
});

describe("handoff URL, short link and /capture", () => {
  it("POST /api/v1/deeplink answers {url, createdAt, expiresAt, workflowIds} with the seed's URL byte for byte", async () => {
    const a = await req(`/api/v1/deeplink?workflowId=${workflowId}`, {
      headers: { Authorization: `ApiKey ${key}` },
      json: { metadata: { externalUserId: "ext-deeplink" }, locale: "en", ttl: 900 },
    });
    expect(a.status, a.text).toBe(200);
    expect(Object.keys(a.body)).toEqual(["url", "createdAt", "expiresAt", "workflowIds"]);
    expect(a.body.workflowIds).toEqual([workflowId]);
    expect(Date.parse(a.body.expiresAt) - Date.parse(a.body.createdAt)).toBeGreaterThan(898_000);
    const m = /^(.*)\/capture\?url=(.*)$/.exec(a.body.url)!;
    expect(m[1]).toBe(BASE);
    const inner = decodeURIComponent(m[2]!);
    const im = /^(.*)\/mobile\?authorization=(et_[^&]+)&sessionId=([0-9a-f-]{36})$/.exec(inner)!;
    expect(im[1]).toBe(BASE);
    const [, , token, sessionId] = im as unknown as [string, string, string, string];
    expect(a.body.url).toBe(expectedHandoff(token, sessionId));
    expect(a.body.url).toBe(
      `${BASE}/capture?url=${BASE.replace(/:/g, "%3A").replace(/\//g, "%2F")}%2Fmobile%3Fauthorization%3D${token}%26sessionId%3D${sessionId}`,
    );
    const read = await req(`/api/sessions/${sessionId}`, { headers: { Authorization: token } });
    expect(read.body).toMatchObject({ id: sessionId, status: "created", metadata: { externalUserId: "ext-deeplink" } });
  });

  it("/capture shows a QR on a desktop, continues on a phone, and /h/<code> leads to the same handoff", async () => {
    const link = (await req(`/api/v1/deeplink?workflowId=${workflowId}`, { headers: { Authorization: key }, json: {} })).body.url as string;
    const path = link.slice(BASE.length);
    const inner = decodeURIComponent(path.slice("/capture?url=".length));
    const desktop = await req(path, { headers: { "User-Agent": DESKTOP_UA } });
    expect(desktop.status).toBe(200);
    expect(desktop.text).toContain("<svg");
    expect(desktop.text).toContain("Continue on your phone");
    const phone = await req(path, { headers: { "User-Agent": PHONE_UA } });
    expect([303, 307, 308]).toContain(phone.status);
    expect(phone.headers.get("location")).toBe(inner);

    const sessionId = new URL(inner).searchParams.get("sessionId")!;
    const short = await req(`/h/${shortCodeFor(sessionId)}`);
    expect([303, 307, 308]).toContain(short.status);
    expect(short.headers.get("location")).toBe(link);
    const bogus = await req(`/h/${"A".repeat(22)}`);
    expect(bogus.status).toBe(200);
    expect(bogus.headers.get("location")).toBeNull();
    expect(bogus.text).toContain("This link is not valid");
  });

  it("/capture refuses an inner URL that is not this deployment's /mobile page (no open redirect)", async () => {
    const token = await mint();
    const s = (await start(token)).body;
    const host = new URL(BASE).host;
    for (const target of [
      `https://evil.example/mobile?authorization=${token}&sessionId=${s.id}`,
      `http://${host}.evil.example/mobile?authorization=${token}&sessionId=${s.id}`,
      `http://evil.example@${host}/mobile?authorization=${token}&sessionId=${s.id}`,
      `${BASE}/login?authorization=${token}&sessionId=${s.id}`,
      `//evil.example/mobile?authorization=${token}&sessionId=${s.id}`,
      `javascript:alert(1)`,
    ]) {
      for (const ua of [PHONE_UA, DESKTOP_UA]) {
        const a = await req(`/capture?url=${encodeURIComponent(target)}`, { headers: { "User-Agent": ua } });
        expect(a.status, target).toBe(200);
        expect(a.headers.get("location"), target).toBeNull();
        expect(a.text).toContain("This link is not valid");
        expect(a.text).not.toContain("evil.example/mobile");
      }
    }
  });

  it("pages say in words when a link is forged, used or expired", async () => {
    const token = await mint();
    const s = (await start(token)).body;
    const forged = `${token.slice(0, -4)}AAAA`;
    const page = (t: string) => req(`/mobile?authorization=${encodeURIComponent(t)}&sessionId=${s.id}`, { headers: { "User-Agent": PHONE_UA } });
    expect((await page(forged)).text).toContain("This link is not valid");
    const live = await page(token);
    expect(live.text).toContain("Step 1 of 2");
    await upload(token, s.id, "document", PNG);
    await upload(token, s.id, "selfie", PNG);
    await req(`/api/sessions/${s.id}/submit`, { method: "POST", headers: { Authorization: token } });
    const used = await page(token);
    expect(used.text).toContain("This link is no longer valid");
    expect(used.text).not.toContain("Step 1 of 2");
    await h.db
      .update(ephemeralTokens)
      .set({ expiresAt: new Date(Date.now() - 60_000) })
      .where(eq(ephemeralTokens.sessionId, s.id));
    expect((await page(token)).text).toContain("This link has expired");
  });
});

describe("expiry", () => {
  it("every use of an expired token answers 401 token_expired; the sweeper marks the session expired and destroys the token", async () => {
    const token = await mint(600);
    const s = (await start(token)).body;
    const unused = await mint(600);
    const past = new Date(Date.now() - 1000);
    await h.db.update(ephemeralTokens).set({ expiresAt: past }).where(eq(ephemeralTokens.sessionId, s.id));
    await h.db.update(idvSessions).set({ expiresAt: past }).where(eq(idvSessions.id, s.id));
    await h.db.execute(
      sql`update ephemeral_tokens set expires_at = ${past.toISOString()}::timestamptz where session_id is null and token_hash = (select token_hash from ephemeral_tokens order by created_at desc limit 1)`,
    );

    expectError(await req(`/api/sessions/${s.id}`, { headers: { Authorization: token } }), 401, "token_expired");
    expectError(await upload(token, s.id, "document", PNG), 401, "token_expired");
    expectError(await req(`/api/sessions/${s.id}/submit`, { method: "POST", headers: { Authorization: token } }), 401, "token_expired");
    const byKey = await req(`/api/sessions/${s.id}`, { headers: { Authorization: readKey } });
    expect(byKey.body.status).toBe("expired");

    // The server's own sweeper may get there first; either way the outcome is the same.
    await sweepExpiredIdv(h.db, new Date());
    const [row] = await h.db.select().from(idvSessions).where(eq(idvSessions.id, s.id));
    expect(row!.status).toBe("expired");
    expect(await h.db.select().from(ephemeralTokens).where(eq(ephemeralTokens.sessionId, s.id))).toEqual([]);
    const [ev] = await queryRows<{ n: number }>(
      h.db,
      sql`select count(*)::int as n from audit_events where action = 'idv_session.expired' and target_id = ${s.id}`,
    );
    expect(Number(ev!.n)).toBe(1);
    expectError(await req(`/api/sessions/${s.id}`, { headers: { Authorization: token } }), 401, "token_expired");
    expectError(await start(unused), 401, "token_expired");
  });
});

describe("bad input writes nothing", () => {
  it("ttl, workflow, metadata, JSON and size errors are 4xx and leave every table as it was", async () => {
    const token = await mint();
    const before = await digest();
    const mintWith = (body: string) =>
      req("/api/device/ephemeral", { method: "POST", headers: { Authorization: key, "Content-Type": "application/json" }, body });
    const cases: Array<[string, Promise<Answer>, number, string]> = [
      ["ttl 59", mintWith(JSON.stringify({ ttl: 59 })), 422, "validation_failed"],
      ["ttl 86401", mintWith(JSON.stringify({ ttl: 86_401 })), 422, "validation_failed"],
      ["ttl as text", mintWith(JSON.stringify({ ttl: "3600" })), 422, "validation_failed"],
      ["ttl fractional", mintWith(JSON.stringify({ ttl: 60.5 })), 422, "validation_failed"],
      ["malformed JSON", mintWith("{ttl:"), 400, "invalid_json"],
      ["oversized body", mintWith(JSON.stringify({ ttl: 60, pad: "x".repeat(70 * 1024) })), 413, "payload_too_large"],
      ["deeplink ttl 0", req(`/api/v1/deeplink?workflowId=${workflowId}`, { headers: { Authorization: key }, json: { ttl: 0 } }), 422, "validation_failed"],
      ["deeplink unknown workflow", req(`/api/v1/deeplink?workflowId=wf_nope`, { headers: { Authorization: key }, json: {} }), 404, "workflow_not_found"],
      ["deeplink no workflow", req(`/api/v1/deeplink`, { headers: { Authorization: key }, json: {} }), 422, "validation_failed"],
      [
        "deeplink bad locale",
        req(`/api/v1/deeplink?workflowId=${workflowId}`, { headers: { Authorization: key }, json: { locale: "<script>" } }),
        422,
        "validation_failed",
      ],
      [
        "deeplink metadata array",
        req(`/api/v1/deeplink?workflowId=${workflowId}`, { headers: { Authorization: key }, json: { metadata: [1, 2] } }),
        422,
        "validation_failed",
      ],
      ["session no workflow", req(`/api/sessions`, { headers: { Authorization: token }, json: {} }), 422, "validation_failed"],
      ["session unknown workflow", start(token, "wf_nope"), 404, "workflow_not_found"],
      ["metadata a string", start(token, workflowId, "ext-1"), 422, "validation_failed"],
      ["metadata nested", start(token, workflowId, { externalUserId: "x", nested: { a: 1 } }), 422, "validation_failed"],
      ["externalUserId a number", start(token, workflowId, { externalUserId: 42 }), 422, "validation_failed"],
      ["externalUserId empty", start(token, workflowId, { externalUserId: "" }), 422, "validation_failed"],
      ["metadata too many keys", start(token, workflowId, Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))), 422, "validation_failed"],
      [
        "session malformed JSON",
        req(`/api/sessions?workflowId=${workflowId}`, { method: "POST", headers: { Authorization: token, "Content-Type": "application/json" }, body: "[" }),
        400,
        "invalid_json",
      ],
      ["session forged token", start(`et_${"0".repeat(32)}.zzzz.${"A".repeat(43)}`), 401, "invalid_token"],
      ["session no token", req(`/api/sessions?workflowId=${workflowId}`, { json: {} }), 401, "invalid_token"],
    ];
    for (const [name, p, status, code] of cases) {
      const a = await p;
      expect(a.status, `${name}: ${a.text}`).toBe(status);
      expect(a.body?.error?.code, name).toBe(code);
    }
    await expectUnchanged(h.db, before);
    // The token that saw all of that is still unused and starts its one session.
    expect((await start(token)).status).toBe(200);
  });
});
