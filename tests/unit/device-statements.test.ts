/**
 * The device flows' writes beside their audit events (lib/devices/auth.ts: REGISTER, LOGIN, REFRESH)
 * are AuditStatements compiled once. For each, the text and parameters bound for an operation's
 * values are the ones drizzle renders from the statement written out with those values inlined —
 * the writes as the flows sent them before their text was fixed: same rows, same values in the same
 * places (a value bound under the wrong name, or a write left out, fails here).
 */
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import type { Instance } from "@/db/schema";
import { buildAuditRow } from "@/lib/audit/record";
import { hashSecret } from "@/lib/crypto/keys";
import { loginWrites, refreshWrites, registrationWrites } from "@/lib/devices/auth";
import { displayPrefix, newDeviceSecret } from "@/lib/devices/secrets";

const meta = { requestId: "req-1", ip: "127.0.0.1", userAgent: "agent" };
const now = new Date("2026-12-02T10:00:00.123Z");
const instance = {
  id: "0190aaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa",
  name: "fleet",
  environment: "sandbox",
  refreshTtlSeconds: 30 * 86_400,
  refreshGraceSeconds: 45,
} as Instance;
const deviceId = "0190bbbb-bbbb-7bbb-8bbb-bbbbbbbbbbbb";
const pair = {
  accessToken: "jwt",
  expiresIn: 3600,
  refreshToken: newDeviceSecret("refresh_token"),
  issued: { jti: "j1", iat: 1, exp: 2, kid: null },
};
const rows = [
  buildAuditRow(
    {
      actor: { type: "device", id: deviceId, name: null },
      action: "device.login",
      target: { type: "device", id: deviceId },
      environment: "sandbox",
      occurredAt: now,
      details: { issued: pair.issued },
    },
    meta,
  ),
];

/** The audit INSERT behind `with`, its values inlined (record.ts' column order and casts). */
function expectedStatement(alongside: SQL): { sql: string; params: unknown[] } {
  const values = rows.map(
    (r) =>
      sql`(${r.id}::uuid, ${r.occurredAt.toISOString()}::timestamptz, ${r.actorType}, ${r.actorId}, ${r.actorName}, ${r.action}, ${r.targetType}, ${r.targetId}, ${r.environment}, ${r.outcome}, ${r.reason}, ${r.requestId},
           ${r.ip}, ${r.userAgent}, ${r.detailsJson}::jsonb, ${r.rowHmac}, ${r.webhook ? JSON.stringify(r.webhook) : null}::jsonb)`,
  );
  const q = new PgDialect().sqlToQuery(
    sql`with ${alongside} insert into audit_events (${sql.raw(
      "id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, environment, outcome, reason, request_id, ip, user_agent, details, row_hmac, webhook",
    )}) values ${sql.join(values, sql`, `)}`,
  );
  return { sql: q.sql, params: q.params };
}

/** The refresh token a pair stores, as the flows wrote it. */
const storedCte = (refreshId: unknown) => sql`stored as (
        insert into device_refresh_tokens (id, device_id, token_hash, expires_at, created_at)
        values (${refreshId}::uuid, ${deviceId}::uuid, ${hashSecret(pair.refreshToken)}, ${new Date(now.getTime() + instance.refreshTtlSeconds * 1000).toISOString()}::timestamptz, ${now.toISOString()}::timestamptz))`;

/** Whitespace is not compared: it is the statement's layout in the source, not its meaning. */
const flat = (q: { sql: string; params: unknown[] }) => ({ sql: q.sql.replace(/\s+/g, " "), params: q.params });

function bound(w: { statement: { bind(rows: never, values: never): { sql: string; params: unknown[] } }; values: object }) {
  return w.statement.bind(rows as never, w.values as never);
}

describe("the device flows' writes beside their audit events", () => {
  it("registration: the device and its first refresh token", () => {
    const deviceToken = newDeviceSecret("device_token");
    const body = {
      UserFields: { ClientId: "client-7" },
      CustomToken: null,
      FirstName: "Ada",
      LastName: null,
      Nickname: null,
      Phone: "+44 20 7946 0000",
      Email: "ada@example.com",
    };
    const w = registrationWrites(deviceId, deviceToken, instance, body, pair, now);
    expect(w.values.refreshId).toMatch(/^[0-9a-f-]{36}$/);
    const expected = expectedStatement(sql`device as (
          insert into devices (id, instance_id, device_token_hash, device_token_prefix, client_id, first_name, last_name, nickname, phone, email,
                               custom_token, created_at)
          values (${deviceId}::uuid, ${instance.id}::uuid, ${hashSecret(deviceToken)}, ${displayPrefix(deviceToken)}, ${"client-7"},
                  ${"Ada"}, ${null}, ${null}, ${"+44 20 7946 0000"}, ${"ada@example.com"},
                  ${null}, ${now.toISOString()}::timestamptz)
        ), ${storedCte(w.values.refreshId)}`);
    expect(flat(bound(w))).toEqual(flat(expected));
    // No user fields at all: every one NULL, none missing.
    const bare = registrationWrites(deviceId, deviceToken, instance, {} as never, pair, now);
    expect(bound(bare).params.slice(4, 11)).toEqual([null, null, null, null, null, null, null]);
    // The text is the compiled one, whatever the values.
    expect(bound(bare).sql).toBe(bound(w).sql);
  });

  it("login: the device's last login time and the new refresh token", () => {
    const w = loginWrites(deviceId, instance, pair, now);
    const expected = expectedStatement(
      sql`stamped as (update devices set last_login_at = ${now.toISOString()}::timestamptz where id = ${deviceId}::uuid), ${storedCte(w.values.refreshId)}`,
    );
    expect(flat(bound(w))).toEqual(flat(expected));
    expect(loginWrites(deviceId, instance, pair, now).values.refreshId).not.toBe(w.values.refreshId);
  });

  it("refresh: the successor, the presented token rotated to it, and the successor a retry replaces", () => {
    const presented = "0190cccc-cccc-7ccc-8ccc-cccccccccccc";
    const at = now.toISOString();
    const graceUntil = new Date(now.getTime() + instance.refreshGraceSeconds * 1000).toISOString();
    for (const replacing of [null, "0190dddd-dddd-7ddd-8ddd-dddddddddddd"]) {
      const w = refreshWrites(deviceId, presented, replacing, instance, pair, now);
      const expected = expectedStatement(sql`${storedCte(w.values.refreshId)}, presented as (
            update device_refresh_tokens set successor_id = ${w.values.refreshId}::uuid, used_at = coalesce(used_at, ${at}::timestamptz),
              grace_until = coalesce(grace_until, ${graceUntil}::timestamptz)
            where id = ${presented}::uuid
          ), replaced as (
            update device_refresh_tokens set replaced_at = ${at}::timestamptz where id = ${replacing}::uuid
          )`);
      expect(flat(bound(w))).toEqual(flat(expected));
    }
  });
});
