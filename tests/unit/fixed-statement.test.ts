/**
 * fixedStatement (db/client.ts): a statement compiled once from an `sql` template with named
 * placeholders gives, for each call's values, exactly the text and parameters drizzle compiles from
 * the same template with the values inlined — the exchange's statements rely on it.
 */
import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { fixedStatement } from "@/db/client";
import { AuditStatement, buildAuditRow } from "@/lib/audit/record";

describe("fixedStatement", () => {
  const template = (v: { at: unknown; id: unknown; hash: unknown }) =>
    sql`update t set used_at = ${v.at}::timestamptz, s = ${v.id}::uuid where h = ${v.hash} and e > ${v.at}::timestamptz returning id`;

  it("compiles the template once and binds each call's values in order, a repeated name at each of its places", () => {
    const stmt = fixedStatement<"at" | "id" | "hash">((p) => template(p));
    const values = { at: "2026-12-02T10:00:00.000Z", id: "0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa", hash: "h1" };
    const inlined = new PgDialect().sqlToQuery(template(values));
    expect(stmt(values)).toEqual({ sql: inlined.sql, params: inlined.params });
    expect(stmt(values).params).toEqual([values.at, values.id, values.hash, values.at]);
    expect(stmt({ ...values, hash: null }).params).toEqual([values.at, values.id, null, values.at]);
    expect(stmt(values).sql).toBe(stmt({ ...values, id: "other" }).sql);
  });

  it("refuses a missing value instead of sending nothing in its place", () => {
    const stmt = fixedStatement<"at" | "id" | "hash">((p) => template(p));
    expect(() => stmt({ at: "x", id: undefined, hash: "h" })).toThrow(/"id"/);
  });
});

describe("AuditStatement", () => {
  const meta = { requestId: "req-1", ip: "127.0.0.1", userAgent: "agent" };
  const row = (id: string) =>
    buildAuditRow({ actor: { type: "system", id: "system", name: "t" }, action: "user.created", target: { type: "user", id }, environment: "sandbox" }, meta);

  it("binds the alongside values by name and each row's 17 values in column order, in the order of the text", () => {
    const statement = new AuditStatement<"x" | "y">((p) => sql`w as (select ${p.x}::int, ${p.y}, ${p.x})`);
    const rows = [row("u1"), row("u2")];
    const q = statement.bind(rows, { x: 1, y: "b" });
    expect(q.sql).toMatch(
      /^with w as \(select \$1::int, \$2, \$3\) insert into audit_events \(id, occurred_at, .*, webhook\) values \(\$4::uuid, \$5::timestamptz, /,
    );
    expect(q.sql).toContain("($21::uuid, $22::timestamptz");
    expect(q.params).toHaveLength(3 + 2 * 17);
    expect(q.params.slice(0, 3)).toEqual([1, "b", 1]);
    for (const [i, r] of rows.entries()) {
      const values = q.params.slice(3 + 17 * i, 3 + 17 * (i + 1));
      expect(values.slice(0, 2)).toEqual([r.id, r.occurredAt.toISOString()]);
      expect(values.slice(7, 8)).toEqual([r.targetId]);
      expect(values.slice(14)).toEqual([r.detailsJson, r.rowHmac, null]);
    }
    expect(statement.bind([rows[0]!], { x: 2, y: null }).params.slice(0, 4)).toEqual([2, null, 2, rows[0]!.id]);
    expect(() => statement.bind(rows, { x: 1, y: undefined })).toThrow(/"y"/);
  });
});
