/**
 * fixedStatement (db/client.ts): a statement compiled once from an `sql` template with named
 * placeholders gives, for each call's values, exactly the text and parameters drizzle compiles from
 * the same template with the values inlined — the exchange's statements rely on it.
 */
import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { fixedStatement } from "@/db/client";

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
