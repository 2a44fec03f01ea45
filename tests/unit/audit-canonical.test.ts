/**
 * The audit row's HMAC material: canonicalJson (loops) writes exactly the text of the definition it
 * replaced (map/entries/filter/sort), and auditRowHmac with the details' canonical text given equals
 * the HMAC of canonicalJson over the whole field list — so rows written before verify as they did.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditRowHmac, buildAuditRow, canonicalJson } from "@/lib/audit/record";
import { derivedKey } from "@/lib/crypto/keys";

function reference(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`;
}

describe("canonicalJson", () => {
  it("writes the reference's text for nested, unordered, odd and empty values", () => {
    // biome-ignore lint/suspicious/noSparseArray: a hole is one of the cases
    const holes = [1, , 3];
    const cases: unknown[] = [
      null,
      undefined,
      0,
      -0,
      1e21,
      1.5,
      Number.NaN,
      "",
      'quote " and \\ and \u2028 and é and 😀',
      true,
      [],
      {},
      [undefined, null, { b: 1, a: [2, { d: undefined, c: 3 }] }],
      holes,
      { z: 1, a: 2, B: 3, _: 4, "10": 5, "9": 6, é: 7, "": 8, undefinedKey: undefined },
      { nested: { deeper: { deepest: ["x", { y: null, x: false }] } }, list: [[], [[]], {}] },
      { date: new Date(0), map: new Map([[1, 2]]) },
    ];
    for (const c of cases) expect(canonicalJson(c)).toBe(reference(c));
  });

  it("an audit row's HMAC is over canonicalJson of its fields, webhook event last when it has one", () => {
    const meta = { requestId: "req-1", ip: "127.0.0.1", userAgent: "agent" };
    for (const webhook of [null, { type: "sign_in_token.redeemed" as const, data: { user_id: "u", sign_in_token_id: "t" } }]) {
      const row = buildAuditRow(
        {
          actor: { type: "user", id: "0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa", name: "client-1" },
          action: "sign_in_token.redeemed",
          target: { type: "user", id: "0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa" },
          environment: "sandbox",
          details: { zeta: 1, alpha: { b: [1, 2], a: null }, skipped: undefined },
          webhook: webhook as never,
        },
        meta,
      );
      const fields: unknown[] = [
        row.id,
        row.occurredAt.toISOString(),
        row.actorType,
        row.actorId,
        row.actorName,
        row.action,
        row.targetType,
        row.targetId,
        row.environment,
        row.outcome,
        row.reason,
        row.requestId,
        row.ip,
        row.userAgent,
        row.details,
      ];
      if (row.webhook != null) fields.push(row.webhook);
      const expected = createHmac("sha256", derivedKey("audit")).update(reference(fields)).digest("base64url");
      expect(row.rowHmac).toBe(expected);
      expect(auditRowHmac(row)).toBe(expected);
      expect(row.detailsJson).toBe(reference(row.details));
    }
  });
});
