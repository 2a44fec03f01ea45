/**
 * Retention: the janitor removes, per environment and per setting, exactly what is past its time
 * and nothing live; one instance at a time (advisory lock, real PostgreSQL); each run audited with
 * counts; the audit log's oldest seals are archived (NDJSON + digests) before deletion and
 * `audit verify` still passes, while tampering with the rest or with the archive is still found.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase, queryRows } from "@/db/client";
import { auditArchives, auditEvents, auditSeals, idvSessionSteps, idvSessions, sdkSessions } from "@/db/schema";
import { apiKeyActor, authenticateApiKey, createApiKey } from "@/lib/api-keys";
import { archiveAuditLog, verifyArchiveFile } from "@/lib/audit/archive";
import { recordAudit } from "@/lib/audit/record";
import { sealAll } from "@/lib/audit/seal";
import { verifyAuditLog } from "@/lib/audit/verify";
import { startBackground } from "@/lib/bootstrap";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { createInstance } from "@/lib/devices";
import { JANITOR_LOCK, runJanitor } from "@/lib/janitor";
import { getRetention, updateRetention } from "@/lib/janitor/settings";
import { metrics } from "@/lib/metrics";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { revokeToken } from "@/lib/oauth/revoke";
import { clearSigningKeyCache, ensureSigningKey } from "@/lib/oauth/signing-keys";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { createUser } from "@/lib/users";
import { createTestDatabase, type TestDatabase, testBackend } from "../helpers/db";

const system = systemActor("test");
const meta: RequestMeta = { requestId: "req-janitor", ip: null, userAgent: "vitest" };
const DAY = 86_400_000;
const support: Actor = { type: "staff", id: "00000000-0000-7000-8000-000000000002", name: "sam@example.test", role: "support" };

let t: TestDatabase;
// Starting PGlite (WASM initdb) takes seconds on a quiet machine and a minute or more on a loaded one.
beforeAll(async () => {
  t = await createTestDatabase();
  clearSigningKeyCache();
  await ensureSigningKey(t.db);
}, 300_000);
afterAll(async () => {
  clearSigningKeyCache();
  await t.close();
});

const count = async (table: string, where = sql`true`) =>
  Number((await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from ${sql.identifier(table)} where ${where}`))[0]!.n);

async function keyActor(environment: "sandbox" | "production") {
  const { key } = await createApiKey(
    t.db,
    system,
    { name: `k-${environment}-${Math.random()}`, environment, region: "us", scopes: ["users:write", "sign_in_tokens:write"] },
    meta,
  );
  return apiKeyActor(await authenticateApiKey(t.db, key, null));
}

describe("retention settings", () => {
  it("defaults, validates, audits a change, and refuses non-admins", async () => {
    expect(await getRetention(t.db, "production")).toMatchObject({
      signInTokensDays: 7,
      endedSessionsDays: 30,
      idvCapturedDays: 30,
      deviceRefreshTokensDays: 30,
    });
    await expect(updateRetention(t.db, system, "production", { idvCapturedDays: 0 }, meta)).rejects.toMatchObject({ code: "validation_failed", status: 422 });
    await expect(updateRetention(t.db, support, "production", { idvCapturedDays: 5 }, meta)).rejects.toMatchObject({ status: 403 });
    const after = await updateRetention(t.db, system, "production", { idvCapturedDays: 5 }, meta);
    expect(after).toMatchObject({ idvCapturedDays: 5, signInTokensDays: 7 });
    const [event] = await t.db.select().from(auditEvents).where(eq(auditEvents.targetType, "retention"));
    expect(event).toMatchObject({ action: "settings.changed", targetId: "production", details: { changes: { idvCapturedDays: { from: 30, to: 5 } } } });
    await updateRetention(t.db, system, "production", { idvCapturedDays: 30 }, meta);
  });
});

describe("the janitor", () => {
  it("removes what is past each environment's retention, keeps what is live, and audits the run", async () => {
    const t0 = new Date();
    await updateRetention(t.db, system, "sandbox", { signInTokensDays: 1, endedSessionsDays: 2, idvCapturedDays: 3, deviceRefreshTokensDays: 2 }, meta);
    const sandbox = await keyActor("sandbox");
    const production = await keyActor("production");
    const user = await createUser(t.db, sandbox, { client_user_id: `jan-${Math.random()}` }, meta);
    const prodUser = await createUser(t.db, production, { client_user_id: `jan-p-${Math.random()}` }, meta);

    // Sandbox: a token never used, one redeemed (its session then revoked), one redeemed into a live session.
    await issueSignInToken(t.db, sandbox, user.id, { now: t0 }, meta);
    const redeemed = await issueSignInToken(t.db, sandbox, user.id, { now: t0 }, meta);
    const ended = await exchangeSignInToken(t.db, { signInToken: redeemed.signInToken }, meta, { now: t0 });
    await revokeToken(t.db, ended.refresh_token, meta, { now: t0 });
    const liveToken = await issueSignInToken(t.db, sandbox, user.id, { now: t0 }, meta);
    const live = await exchangeSignInToken(t.db, { signInToken: liveToken.signInToken }, meta, { now: t0 });
    // Production keeps its default 7 days: the same kind of token stays.
    await issueSignInToken(t.db, production, prodUser.id, { now: t0 }, meta);

    // IDV: a submitted session with captured data in each environment, and one still in progress.
    const idv = async (environment: "sandbox" | "production", status: "submitted" | "in_progress") => {
      const id = uuidv7();
      await t.db.insert(idvSessions).values({
        id,
        workflowId: "wf_test",
        environment,
        region: "us",
        status,
        shortCode: `c-${id}`,
        issuedByType: "api_key",
        expiresAt: new Date(t0.getTime() + 3600_000),
        submittedAt: status === "submitted" ? t0 : null,
        updatedAt: t0,
      });
      await t.db.insert(idvSessionSteps).values({ sessionId: id, stepId: "form", data: { fullName: "Ada Lovelace" } });
      await t.db.insert(idvSessionSteps).values({ sessionId: id, stepId: "document", imageContentType: "image/png", image: Buffer.from("png") });
      return id;
    };
    const idvDone = await idv("sandbox", "submitted");
    const idvOpen = await idv("sandbox", "in_progress");
    const idvProd = await idv("production", "submitted");

    // Devices: a used refresh token and a live one, sandbox.
    const { instance } = await createInstance(t.db, system, { name: `Fleet ${Math.random()}`, environment: "sandbox" }, meta);
    const deviceId = uuidv7();
    await t.db.execute(
      sql`insert into devices (id, instance_id, device_token_hash, device_token_prefix) values (${deviceId}::uuid, ${instance.id}::uuid, ${`h-${deviceId}`}, 'dt_x')`,
    );
    await t.db.execute(sql`insert into device_refresh_tokens (id, device_id, token_hash, expires_at, used_at) values
      (${uuidv7()}::uuid, ${deviceId}::uuid, ${`u-${deviceId}`}, ${new Date(t0.getTime() + 90 * DAY).toISOString()}::timestamptz, ${t0.toISOString()}::timestamptz),
      (${uuidv7()}::uuid, ${deviceId}::uuid, ${`l-${deviceId}`}, ${new Date(t0.getTime() + 90 * DAY).toISOString()}::timestamptz, null)`);
    // Buckets go when they expire: one expired two days before the run, one is still counting.
    const iso = (ms: number) => new Date(t0.getTime() + ms).toISOString();
    await t.db.execute(sql`insert into rate_limits (key, window_start, count, expires_at) values
      ('device-login:ip:192.0.2.1', ${iso(2 * DAY - 600_000)}::timestamptz, 3, ${iso(2 * DAY)}::timestamptz),
      ('device-login:ip:192.0.2.2', ${iso(4 * DAY - 60_000)}::timestamptz, 1, ${iso(4 * DAY + 540_000)}::timestamptz)`);

    const expiredBefore = await metrics().signInTokensExpired.get();
    const sandboxExpiredBefore = expiredBefore.values.find((v) => v.labels.environment === "sandbox")?.value ?? 0;

    // Day 1 after: nothing is old enough yet (tokens must be 1 day past use or expiry).
    const early = await runJanitor(t.db, { now: new Date(t0.getTime() + 0.5 * DAY) });
    expect(early.ran).toBe(true);
    expect(early.counts.signInTokens).toBe(0);

    const report = await runJanitor(t.db, { now: new Date(t0.getTime() + 4 * DAY) });
    expect(report.ran).toBe(true);
    expect(report.perEnvironment.sandbox).toEqual({
      signInTokens: 3,
      signInTokensExpiredUnused: 1,
      sdkSessions: 1,
      refreshTokens: 1,
      idvCapturedSteps: 2,
      deviceRefreshTokens: 1,
    });
    expect(report.perEnvironment.production).toMatchObject({ signInTokens: 0, idvCapturedSteps: 0 });
    expect(report.counts.rateLimits).toBe(1);

    // All three sandbox tokens were used or expired more than a day before; production keeps 7 days.
    expect(await count("sign_in_tokens", sql`user_id = ${user.id}::uuid`)).toBe(0);
    expect(await count("sign_in_tokens", sql`user_id = ${prodUser.id}::uuid`)).toBe(1);
    const [liveSession] = await t.db.select().from(sdkSessions).where(eq(sdkSessions.userId, user.id));
    expect(liveSession?.revokedAt).toBeNull();
    expect(await count("refresh_tokens", sql`session_id = ${liveSession!.id}::uuid`)).toBe(1);
    expect(live.refresh_token).toMatch(/^rt_/);
    expect(await count("idv_session_steps", sql`session_id = ${idvDone}::uuid`)).toBe(0);
    expect(await count("idv_sessions", sql`id = ${idvDone}::uuid`)).toBe(1); // the session's status stays
    expect(await count("idv_session_steps", sql`session_id = ${idvOpen}::uuid`)).toBe(2);
    expect(await count("idv_session_steps", sql`session_id = ${idvProd}::uuid`)).toBe(2);
    expect(await count("device_refresh_tokens", sql`device_id = ${deviceId}::uuid`)).toBe(1);
    expect(await count("rate_limits", sql`key like 'device-login:ip:192.0.2.%'`)).toBe(1);

    const runs = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "janitor.ran"));
    expect(runs.length).toBe(2);
    const last = runs.find((r) => (r.details as { counts: { signInTokens: number } }).counts.signInTokens === 3);
    expect(last).toMatchObject({ actorType: "system", actorName: "janitor", outcome: "success" });
    expect(last!.details).toMatchObject({ counts: { sdkSessions: 1, idvCapturedSteps: 2, rateLimits: 1 } });

    const expiredAfter = (await metrics().signInTokensExpired.get()).values.find((v) => v.labels.environment === "sandbox")?.value ?? 0;
    expect(expiredAfter - sandboxExpiredBefore).toBe(1);
    await updateRetention(t.db, system, "sandbox", { signInTokensDays: 7, endedSessionsDays: 30, idvCapturedDays: 30, deviceRefreshTokensDays: 30 }, meta);
  });

  it("overlapping runs in one process: one runs, the others return at once", async () => {
    const before = await count("audit_events", sql`action = 'janitor.ran'`);
    const results = await Promise.all([runJanitor(t.db), runJanitor(t.db), runJanitor(t.db)]);
    expect(results.filter((r) => r.ran).length).toBe(1);
    expect(await count("audit_events", sql`action = 'janitor.ran'`)).toBe(before + 1);
  });

  // Another instance is another PostgreSQL session; the embedded database has only one process.
  it.each(testBackend() === "postgres" ? ["postgres"] : [])("%s: while another instance holds the lock, a run does nothing", async () => {
    const other = await openDatabase({ databaseUrl: t.url!, maxConnections: 2 });
    try {
      const client = (other.db as unknown as { $client: import("postgres").Sql }).$client;
      const conn = await client.reserve();
      await conn`select pg_advisory_lock(${JANITOR_LOCK})`;
      const before = await count("audit_events", sql`action = 'janitor.ran'`);
      expect((await runJanitor(t.db)).ran).toBe(false);
      expect(await count("audit_events", sql`action = 'janitor.ran'`)).toBe(before);
      await conn`select pg_advisory_unlock(${JANITOR_LOCK})`;
      conn.release();
      expect((await runJanitor(t.db)).ran).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe("audit retention", () => {
  const admin: Actor = { type: "staff", id: "00000000-0000-7000-8000-000000000001", name: "ada@example.test", role: "admin" };
  async function sealedBatch(tag: string, n: number) {
    await t.db.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        await recordAudit(
          tx,
          { actor: admin, action: "user.disabled", target: { type: "user", id: `${tag}-${i}` }, environment: "sandbox", reason: tag },
          meta,
        );
      }
    });
    await sealAll(t.db);
  }

  it("archives the oldest seals with their digests, deletes them, and verify still passes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-archive-"));
    await sealAll(t.db);
    await sealedBatch("old-a", 4);
    await sealedBatch("old-b", 3);
    const cutoff = new Date(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1100));
    await sealedBatch("new", 2);
    const sealsBefore = await t.db.select().from(auditSeals);
    const eventsBefore = await count("audit_events");

    const result = await archiveAuditLog(t.db, { cutoff, dir, actor: system, meta });
    expect(result).not.toBeNull();
    const archivedSeals = sealsBefore.filter((s) => s.seq <= result!.toSeal);
    expect(result!.events).toBe(archivedSeals.reduce((n, s) => n + s.rowCount, 0));
    expect(await count("audit_events")).toBe(eventsBefore - result!.events + 1); // + the audit.archived event
    expect(await count("audit_events", sql`reason in ('old-a', 'old-b')`)).toBe(0);
    expect(await count("audit_events", sql`reason = 'new'`)).toBe(2);
    expect((await t.db.select().from(auditSeals)).every((s) => s.seq > result!.toSeal)).toBe(true);

    const report = await verifyAuditLog(t.db);
    expect(report.problem).toBeNull();
    expect(report.ok).toBe(true);
    // Seal numbers run on from the checkpoint; an anchor taken before the archive is still reached,
    // and one naming the checkpoint's seal with another digest is a cut tail.
    const lastArchived = archivedSeals.at(-1)!;
    expect(report.latest?.seq).toBe(Math.max(...sealsBefore.map((s) => s.seq)) + 1); // + the seal of audit.archived
    for (const s of [archivedSeals[0]!, lastArchived]) {
      expect((await verifyAuditLog(t.db, { anchor: { seq: s.seq, digest: s.digest } })).problem).toBeNull();
    }
    expect((await verifyAuditLog(t.db, { anchor: { seq: lastArchived.seq, digest: "x".repeat(43) } })).problem?.kind).toBe("tail_cut");

    const file = await verifyArchiveFile(result!.file);
    expect(file).toMatchObject({ ok: true, events: result!.events, sha256: result!.sha256, toSeal: result!.toSeal });
    const lines = fs.readFileSync(result!.file, "utf8").trim().split("\n");
    expect(lines.filter((l) => l.includes('"reason":"old-a"')).length).toBe(4);
    const [archived] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "audit.archived"));
    expect(archived!.details).toMatchObject({ events: result!.events, sha256: result!.sha256, toSeal: result!.toSeal });

    // The archive is evidence: one changed character is found.
    const tampered = path.join(dir, "tampered.ndjson");
    fs.writeFileSync(tampered, fs.readFileSync(result!.file, "utf8").replace('"reason":"old-b"', '"reason":"old-c"'));
    expect((await verifyArchiveFile(tampered)).problem).toMatch(/was altered/);

    // Tampering after archiving is still found: an event slipped in below the checkpoint, a forged checkpoint.
    const [cp] = await t.db.select().from(auditArchives);
    await t.db.execute(sql`update audit_archives set event_count = event_count + 1 where seq = ${cp!.seq}`);
    expect((await verifyAuditLog(t.db)).problem?.message).toMatch(/checkpoint .* was altered/);
    await t.db.execute(sql`update audit_archives set event_count = event_count - 1 where seq = ${cp!.seq}`);
    await t.db.execute(sql`delete from audit_archives`);
    expect((await verifyAuditLog(t.db)).ok).toBe(false);
    await t.db.insert(auditArchives).values(cp!);
    expect((await verifyAuditLog(t.db)).ok).toBe(true);
  });

  it("refuses to archive a seal that does not verify, and deletes nothing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-archive-"));
    await sealedBatch("evidence", 3);
    await sealedBatch("newest", 1);
    await t.db.execute(sql`update audit_events set reason = 'rewritten' where reason = 'evidence' and target_id = 'evidence-1'`);
    const before = await count("audit_events");
    await expect(archiveAuditLog(t.db, { cutoff: new Date(Date.now() + 60_000), dir, actor: system, meta })).rejects.toThrow(/does not verify/);
    expect(await count("audit_events")).toBe(before);
    expect(fs.readdirSync(dir)).toEqual([]);
    await t.db.execute(sql`update audit_events set reason = 'evidence' where target_id = 'evidence-1'`);
  });
});

describe("background work of an instance", () => {
  it("TOKENDESK_BACKGROUND=0 starts none of it; otherwise the sweepers run on their intervals", async () => {
    const sealerRuns = async () =>
      (await metrics().sweeperRuns.get()).values.filter((v) => v.labels.sweeper === "audit sealer").reduce((n, v) => n + v.value, 0);
    const settle = () => new Promise((r) => setTimeout(r, 50)); // real: only the intervals are faked
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const before = await sealerRuns();
      expect(startBackground(t.db, false)).toBeNull();
      vi.advanceTimersByTime(60_000);
      await settle();
      expect(await sealerRuns()).toBe(before);
      const running = startBackground(t.db, true)!;
      vi.advanceTimersByTime(5_000); // the sealer's interval
      for (let i = 0; i < 200 && (await sealerRuns()) === before; i++) await settle();
      await running.stop();
      expect(await sealerRuns()).toBeGreaterThan(before);
    } finally {
      vi.useRealTimers();
    }
  });
});
