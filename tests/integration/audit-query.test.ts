/**
 * Reading the audit log (lib/audit/query.ts, export.ts, index.ts): keyset pages return every
 * matching event exactly once, in (time desc, id desc) order, even when many share a timestamp;
 * exports stream exactly the filtered set; bad input is a 400 with a sentence.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { type AuditEventRow, staff } from "@/db/schema";
import { exportAuditLog, searchAuditLog } from "@/lib/audit";
import { EXPORT_COLUMNS, exportAuditStream } from "@/lib/audit/export";
import { type AuditFilter, auditPageStatement, decodeCursor, encodeCursor, iterateAuditRows, listAuditEvents, parseAuditFilter } from "@/lib/audit/query";
import { recordAudit } from "@/lib/audit/record";
import type { Actor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const TOTAL = 240;
const API_KEYS = ["0190a0a0-0000-7000-8000-00000000aaa1", "0190a0a0-0000-7000-8000-00000000aaa2"];
const t0 = Date.parse("2030-03-01T00:00:00Z");
const auditor: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000a1", name: "avery@example.test", role: "auditor" };
const support: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000a2", name: "sam@example.test", role: "support" };
const actors: Actor[] = [
  { type: "staff", id: "0190a0a0-0000-7000-8000-000000000001", name: "ada@example.test", role: "admin" },
  { type: "staff", id: "0190a0a0-0000-7000-8000-000000000002", name: "sam@example.test", role: "support" },
  { type: "system", id: "system", name: "sweeper" },
];
const actions = ["user.disabled", "user.enabled", "sign_in_token.issued", "device.login"] as const;

let t: TestDatabase;
let all: AuditEventRow[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.transaction(async (tx) => {
    for (let i = 0; i < TOTAL; i++) {
      await recordAudit(
        tx,
        {
          actor: actors[i % 3]!,
          action: actions[i % 4]!,
          // Some events target an API key, some name one in details (both index paths of the apiKeyId filter).
          target: i % 20 === 9 ? { type: "api_key", id: API_KEYS[Math.floor(i / 20) % 2]! } : { type: i % 4 === 3 ? "device" : "user", id: `target-${i % 10}` },
          environment: i % 2 ? "production" : "sandbox",
          outcome: i % 7 === 0 ? "failure" : "success",
          // Runs of five events share one millisecond: the id must break the tie.
          occurredAt: new Date(t0 + Math.floor(i / 5) * 60_000),
          reason: i === 7 ? '=HYPERLINK("http://evil.test"), "quoted"' : `reason ${i}`,
          details: i % 3 === 0 ? { n: i, apiKeyId: API_KEYS[(i / 3) % 2]! } : { n: i },
        },
        { requestId: `req-${i}`, ip: "10.1.2.3", userAgent: "vitest" },
      );
    }
  });
  all = (await listAuditEvents(t.db, {}, { limit: 5000, maxLimit: 5000 })).events;
});
afterAll(async () => {
  await t.close();
});

/** What a filter should match, computed in JS from the full list (already newest-first). */
function expected(predicate: (e: AuditEventRow) => boolean) {
  return all.filter(predicate).map((e) => e.id);
}

async function pageThrough(filter: AuditFilter, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await searchAuditLog(t.db, auditor, filter, { cursor: decodeCursor(cursor), limit });
    expect(page.events.length).toBeLessThanOrEqual(limit);
    ids.push(...page.events.map((e) => e.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

async function readStream(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe("audit log queries", () => {
  it("orders newest first with the id breaking ties", () => {
    expect(all).toHaveLength(TOTAL);
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1]!;
      const b = all[i]!;
      const newer = a.occurredAt.getTime() > b.occurredAt.getTime() || (a.occurredAt.getTime() === b.occurredAt.getTime() && a.id > b.id);
      expect(newer).toBe(true);
    }
  });

  it.each([
    ["no filter", {}, () => true],
    ["environment", { environment: "production" }, (e: AuditEventRow) => e.environment === "production"],
    ["action family", { action: "user." }, (e: AuditEventRow) => e.action.startsWith("user.")],
    ["action family and outcome", { action: "user.", outcome: "failure" }, (e: AuditEventRow) => e.action.startsWith("user.") && e.outcome === "failure"],
    ["outcome failure", { outcome: "failure" }, (e: AuditEventRow) => e.outcome === "failure"],
    ["outcome success", { outcome: "success" }, (e: AuditEventRow) => e.outcome === "success"],
    ["actor by email prefix", { actor: "ADA@" }, (e: AuditEventRow) => e.actorName === "ada@example.test"],
    ["actor by id", { actor: "system" }, (e: AuditEventRow) => e.actorId === "system"],
    ["target", { targetType: "user", targetId: "target-4" }, (e: AuditEventRow) => e.targetType === "user" && e.targetId === "target-4"],
    [
      "API key (named in details or targeted)",
      { apiKeyId: API_KEYS[1]! },
      (e: AuditEventRow) => e.details.apiKeyId === API_KEYS[1] || (e.targetType === "api_key" && e.targetId === API_KEYS[1]),
    ],
    [
      "API key and environment",
      { apiKeyId: API_KEYS[0]!, environment: "sandbox" },
      (e: AuditEventRow) => e.environment === "sandbox" && (e.details.apiKeyId === API_KEYS[0] || (e.targetType === "api_key" && e.targetId === API_KEYS[0])),
    ],
    [
      "time range",
      { from: new Date(t0 + 10 * 60_000).toISOString(), to: "2030-03-01T00:30" },
      (e: AuditEventRow) => e.occurredAt.getTime() >= t0 + 10 * 60_000 && e.occurredAt.getTime() < t0 + 30 * 60_000,
    ],
  ] as const)("pages through %s: each match exactly once, in order", async (_name, raw, predicate) => {
    const filter = parseAuditFilter(raw as Record<string, string>);
    const want = expected(predicate);
    expect(want.length).toBeGreaterThan(0);
    const { ids, pages } = await pageThrough(filter, 7);
    expect(ids).toEqual(want);
    expect(pages).toBe(Math.max(1, Math.ceil(want.length / 7)));
  });

  it("reads a page of failures from their partial index, past a cursor too", async () => {
    for (const cursor of [null, { at: new Date(t0 + 60 * 60_000), id: "ffffffff-ffff-7fff-bfff-ffffffffffff" }]) {
      const statement = auditPageStatement(parseAuditFilter({ outcome: "failure" }), [], cursor, 50, sql`*`);
      const plan = await t.db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        return (await queryRows<Record<string, string>>(tx, sql`explain ${statement}`)).map((r) => r["QUERY PLAN"]).join("\n");
      });
      expect(plan).toContain("audit_events_problem_time_idx");
    }
  });

  it("finds a staff member's events by their display name, not only by the email the events carry", async () => {
    await t.db.insert(staff).values({ id: actors[1]!.id!, email: "sam@example.test", name: "Sam Quill", role: "support" });
    const want = expected((e) => e.actorId === actors[1]!.id);
    for (const text of ["Sam", "sam q", "quill", "QUILL"]) {
      const { ids } = await pageThrough(parseAuditFilter({ actor: text }), 50);
      expect(ids, text).toEqual(want);
    }
    expect((await pageThrough(parseAuditFilter({ actor: "uill" }), 50)).ids).toEqual([]); // a word's start, not any part
  });

  it("clamps the page size", async () => {
    expect((await listAuditEvents(t.db, {}, { limit: 10_000 })).events).toHaveLength(200);
    expect((await listAuditEvents(t.db, {}, { limit: 0 })).events).toHaveLength(1);
  });

  it("exports the filtered set as CSV, newest first, with spreadsheet formulas neutralised", async () => {
    const filter = parseAuditFilter({ environment: "production", outcome: "failure" });
    const want = expected((e) => e.environment === "production" && e.outcome === "failure");
    const csv = await readStream(exportAuditStream(t.db, filter, "csv"));
    const lines = csv.trimEnd().split("\n");
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(","));
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(want);
    const tricky = lines.find((l) => l.includes("evil.test"))!;
    expect(tricky).toContain(`"'=HYPERLINK(""http://evil.test""), ""quoted"""`);
    expect(tricky).toContain(`"{""n"":7}"`);
  });

  it("exports the filtered set as NDJSON records", async () => {
    const filter = parseAuditFilter({ actor: "sam@", outcome: "failure" });
    const want = all.filter((e) => e.actorName === "sam@example.test" && e.outcome === "failure");
    const text = await readStream(exportAuditStream(t.db, filter, "ndjson"));
    const records = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.id)).toEqual(want.map((e) => e.id));
    expect(records[0]).toEqual({
      id: want[0]!.id,
      occurred_at: want[0]!.occurredAt.toISOString(),
      actor_type: "staff",
      actor_id: want[0]!.actorId,
      actor_name: "sam@example.test",
      action: want[0]!.action,
      target_type: want[0]!.targetType,
      target_id: want[0]!.targetId,
      environment: want[0]!.environment,
      outcome: "failure",
      reason: want[0]!.reason,
      request_id: want[0]!.requestId,
      ip: "10.1.2.3",
      user_agent: "vitest",
      details: want[0]!.details,
    });
  });

  it("streams a large export across many pages without losing rows", async () => {
    const text = await readStream(exportAuditStream(t.db, {}, "ndjson"));
    const ids = text
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(all.map((e) => e.id));
  });

  it.each<[string, AuditFilter]>([
    ["no filter", {}],
    ["an action family", { action: "user." }],
    ["an API key", { apiKeyId: API_KEYS[0]! }],
    ["an actor's name", { actor: "sam@" }],
  ])("reads ahead page by page without losing or repeating a row (%s)", async (_, filter) => {
    const ids: string[] = [];
    const sizes: number[] = [];
    for await (const page of iterateAuditRows<{ id: string; cursor_at: string }>(t.db, filter, sql`id, occurred_at::text as cursor_at`, 7)) {
      sizes.push(page.length);
      ids.push(...page.map((r) => r.id));
    }
    const want = (await listAuditEvents(t.db, filter, { limit: 5000, maxLimit: 5000 })).events.map((e) => e.id);
    expect(ids).toEqual(want);
    expect(sizes.length).toBe(Math.max(1, Math.ceil(want.length / 7)));
  });

  it("an export abandoned mid-way leaves no read-ahead behind to fail later", async () => {
    const reader = exportAuditStream(t.db, {}, "ndjson").getReader();
    await reader.read();
    await reader.cancel();
    const rest = await readStream(exportAuditStream(t.db, {}, "ndjson"));
    expect(rest.trimEnd().split("\n")).toHaveLength(all.length);
  });

  it("records who exported what, and refuses roles without audit:export", async () => {
    const stream = await exportAuditLog(t.db, auditor, { outcome: "failure" }, "csv", { requestId: "req-x", ip: null, userAgent: null });
    await readStream(stream);
    const [ev] = (await listAuditEvents(t.db, { action: "audit.exported" })).events;
    expect(ev).toMatchObject({ actorId: auditor.id, details: { format: "csv", filter: { outcome: "failure" } } });
    await expect(exportAuditLog(t.db, support, {}, "csv", { requestId: null, ip: null, userAgent: null })).rejects.toMatchObject({ status: 403 });
    await expect(searchAuditLog(t.db, support, {}, {})).rejects.toMatchObject({ status: 403 });
    expect((await listAuditEvents(t.db, { action: "audit.exported" })).events).toHaveLength(1);
  });

  it.each([
    ["a cursor that is not base64 JSON", () => decodeCursor("not-a-cursor"), /page cursor is not valid/],
    ["a cursor with a bad id", () => decodeCursor(encodeCursor({ at: new Date(), id: "x".repeat(36) })), /page cursor is not valid/],
    ["an unknown action", () => parseAuditFilter({ action: "user.exploded" }), /^Filter "action" must be an audit action/],
    ["an unknown environment", () => parseAuditFilter({ environment: "staging" }), /^Filter "environment"/],
    ["a bad date", () => parseAuditFilter({ from: "yesterday" }), /^Filter "from" must be a date\.$/],
    ["an unknown outcome", () => parseAuditFilter(new URLSearchParams("outcome=maybe")), /^Filter "outcome"/],
  ])("answers 400 with a sentence for %s", (_name, run, message) => {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).status).toBe(400);
    expect((err as DomainError).message).toMatch(message);
  });

  it("treats empty URL fields as absent", () => {
    expect(parseAuditFilter(new URLSearchParams("actor=&action=&outcome=success"))).toEqual({ outcome: "success" });
  });
});
