/**
 * Staff management and sign-in (lib/staff/staff.ts) on a real database: every change is audited
 * and ends the member's other sessions, refusals write nothing, failed sign-ins are rate-limited
 * per account and per IP, and SSO sign-in provisions members and keeps their role in step.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Database, openDatabase, queryRows } from "@/db/client";
import { auditEvents, staff } from "@/db/schema";
import type { OidcConfig } from "@/lib/config/env";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import {
  ACCOUNT_SIGN_IN_LIMIT,
  activeStaff,
  changeStaffRole,
  createStaff,
  IP_SIGN_IN_LIMIT,
  listStaff,
  PAIR_SIGN_IN_LIMIT,
  resetStaffPassword,
  type StaffView,
  setStaffDisabled,
  signInWithOidc,
  signInWithPassword,
  signOutStaff,
} from "@/lib/staff/staff";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";

const system = systemActor("test");
const meta = (ip: string | null = "203.0.113.7"): RequestMeta => ({ requestId: "req-1", ip, userAgent: "vitest" });
const PASSWORD = "correct horse battery";

let t: TestDatabase;
beforeEach(async () => {
  t = await createTestDatabase();
});
afterEach(async () => {
  await t.close();
});

async function events(action?: string) {
  return t.db
    .select()
    .from(auditEvents)
    .where(action ? eq(auditEvents.action, action) : undefined)
    .orderBy(asc(auditEvents.occurredAt), asc(auditEvents.id));
}

async function row(id: string) {
  const [r] = await t.db.select().from(staff).where(eq(staff.id, id));
  return r!;
}

async function staffCount() {
  const [r] = await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from staff`);
  return Number(r!.n);
}

/** Everything stored in audit rows, as text (txid is a bigint). */
const dump = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

const asStaff = (v: StaffView): Actor => ({ type: "staff", id: v.id, name: v.email, role: v.role });

async function expectDomainError(p: Promise<unknown>, status: number, code: string): Promise<DomainError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).status).toBe(status);
  expect((err as DomainError).code).toBe(code);
  return err as DomainError;
}

describe("creating staff", () => {
  it("creates a member, audits it and never exposes the hash", async () => {
    const created = await createStaff(t.db, system, { email: " Ada@Example.TEST ", role: "admin", password: PASSWORD, name: "Ada" }, meta());
    expect(created).toMatchObject({ email: "ada@example.test", name: "Ada", role: "admin", disabled: false, hasPassword: true, sso: false });
    expect(Object.keys(created)).not.toContain("passwordHash");
    const [ev] = await events("staff.created");
    expect(ev).toMatchObject({ actorType: "system", targetType: "staff", targetId: created.id, outcome: "success", ip: "203.0.113.7" });
    expect(ev!.details).toEqual({ email: "ada@example.test", role: "admin" });
    expect(dump(ev)).not.toContain(PASSWORD);
  });

  it("refuses a duplicate email with 409 and writes nothing", async () => {
    await createStaff(t.db, system, { email: "ada@example.test", role: "admin", password: PASSWORD }, meta());
    const before = await databaseDigest(t.db);
    const err = await expectDomainError(
      createStaff(t.db, system, { email: "ADA@example.test", role: "support", password: PASSWORD }, meta()),
      409,
      "email_taken",
    );
    expect(err.message).toBe("A staff member with the email ada@example.test already exists.");
    await expectUnchanged(t.db, before);
  });

  it("refuses a short password or a bad email with a sentence naming the field, writing nothing", async () => {
    const before = await databaseDigest(t.db);
    const short = await expectDomainError(
      createStaff(t.db, system, { email: "bob@example.test", role: "support", password: "short" }, meta()),
      422,
      "validation_failed",
    );
    expect(short.message).toBe("Password must be at least 12 characters.");
    const email = await expectDomainError(createStaff(t.db, system, { email: "not-an-email", role: "support" }, meta()), 422, "validation_failed");
    expect(email.message).toMatch(/^Email must be an email address/);
    await expectUnchanged(t.db, before);
  });

  it("refuses roles without staff:manage (403) and lists staff only for admins", async () => {
    const support = await createStaff(t.db, system, { email: "sam@example.test", role: "support", password: PASSWORD }, meta());
    await expectDomainError(createStaff(t.db, asStaff(support), { email: "x@example.test", role: "admin", password: PASSWORD }, meta()), 403, "forbidden");
    await expectDomainError(listStaff(t.db, asStaff(support)), 403, "forbidden");
    expect(await staffCount()).toBe(1);
    expect(await events("staff.created")).toHaveLength(1);
  });
});

describe("changing staff", () => {
  let admin: StaffView;
  let member: StaffView;
  beforeEach(async () => {
    admin = await createStaff(t.db, system, { email: "ada@example.test", role: "admin", password: PASSWORD }, meta());
    member = await createStaff(t.db, system, { email: "sam@example.test", role: "support", password: PASSWORD }, meta());
  });

  it("audits each change and ends the member's existing sessions (session version bump)", async () => {
    const a = asStaff(admin);
    let version = (await row(member.id)).sessionVersion;
    const bumped = async () => {
      const now = (await row(member.id)).sessionVersion;
      expect(now).toBe(version + 1);
      // A session minted before the change is refused; one with the new version is accepted.
      expect(await activeStaff(t.db, member.id, version)).toBeNull();
      version = now;
    };

    expect((await changeStaffRole(t.db, a, member.id, "auditor", meta())).role).toBe("auditor");
    await bumped();
    // Staff say why (issue 14, point 11): no reason, nothing changes.
    await expectDomainError(setStaffDisabled(t.db, a, member.id, true, { reason: "  " }, meta()), 422, "reason_required");
    expect((await row(member.id)).disabledAt).toBeNull();
    expect((await setStaffDisabled(t.db, a, member.id, true, { reason: "Left the company, ticket 12" }, meta())).disabled).toBe(true);
    await bumped();
    expect(await activeStaff(t.db, member.id, version)).toBeNull(); // disabled: refused whatever the version
    expect((await setStaffDisabled(t.db, a, member.id, false, { reason: "staff test" }, meta())).disabled).toBe(false);
    await bumped();
    await resetStaffPassword(t.db, a, member.id, "a brand new password", meta());
    await bumped();
    expect(await activeStaff(t.db, member.id, version)).not.toBeNull();

    const log = (await events()).filter((e) => e.targetId === member.id && e.action !== "staff.created");
    expect(log.map((e) => [e.action, e.actorId])).toEqual([
      ["staff.role_changed", admin.id],
      ["staff.disabled", admin.id],
      ["staff.enabled", admin.id],
      ["staff.password_reset", admin.id],
    ]);
    expect(log[0]!.details).toEqual({ email: "sam@example.test", from: "support", to: "auditor" });
    expect(log[1]!.reason).toBe("Left the company, ticket 12");
    expect(dump(log)).not.toContain("a brand new password");

    // The new password works, the old one does not.
    expect((await signInWithPassword(t.db, { email: "sam@example.test", password: PASSWORD }, meta())).ok).toBe(false);
    expect((await signInWithPassword(t.db, { email: "sam@example.test", password: "a brand new password" }, meta())).ok).toBe(true);
  });

  it("makes no change and writes no event when nothing changes", async () => {
    const before = await events();
    await changeStaffRole(t.db, asStaff(admin), member.id, "support", meta());
    await setStaffDisabled(t.db, asStaff(admin), member.id, false, { reason: "staff test" }, meta());
    expect(await events()).toHaveLength(before.length);
    expect((await row(member.id)).sessionVersion).toBe(1);
  });

  it("protects the last active admin and refuses self-disable", async () => {
    await expectDomainError(changeStaffRole(t.db, asStaff(admin), admin.id, "support", meta()), 409, "last_admin");
    await expectDomainError(setStaffDisabled(t.db, system, admin.id, true, { reason: "staff test" }, meta()), 409, "last_admin");
    await expectDomainError(setStaffDisabled(t.db, asStaff(admin), admin.id, true, { reason: "staff test" }, meta()), 409, "self_disable");
    expect(await row(admin.id)).toMatchObject({ role: "admin", disabledAt: null, sessionVersion: 1 });

    // With a second admin the first may step down.
    await changeStaffRole(t.db, asStaff(admin), member.id, "admin", meta());
    expect((await changeStaffRole(t.db, system, admin.id, "auditor", meta())).role).toBe("auditor");
  });

  it("answers 404 for an unknown or malformed id and 422 for a bad role or short password", async () => {
    await expectDomainError(changeStaffRole(t.db, asStaff(admin), "not-a-uuid", "qa", meta()), 404, "not_found");
    await expectDomainError(
      setStaffDisabled(t.db, asStaff(admin), "0190a0a0-0000-7000-8000-000000000000", true, { reason: "staff test" }, meta()),
      404,
      "not_found",
    );
    await expectDomainError(changeStaffRole(t.db, asStaff(admin), member.id, "root" as never, meta()), 422, "validation_failed");
    await expectDomainError(resetStaffPassword(t.db, asStaff(admin), member.id, "short", meta()), 422, "validation_failed");
    expect((await row(member.id)).sessionVersion).toBe(1);
  });
});

describe("password sign-in", () => {
  let member: StaffView;
  beforeEach(async () => {
    member = await createStaff(t.db, system, { email: "sam@example.test", role: "support", password: PASSWORD }, meta());
  });
  const attempt = (password: string, from: string | null = "203.0.113.7", at?: Date, db: Database = t.db) =>
    signInWithPassword(db, { email: "sam@example.test", password }, meta(from), at);

  it("records a failure event for a wrong password, with the same sentence as an unknown email", async () => {
    const wrong = await signInWithPassword(t.db, { email: "sam@example.test", password: "wrong password!" }, meta());
    const unknown = await signInWithPassword(t.db, { email: "nobody@example.test", password: "wrong password!" }, meta());
    expect(wrong).toEqual({ ok: false, reason: "invalid", code: "CredentialsSignin", message: "The email or password is not right." });
    expect(unknown).toEqual(wrong);
    const failures = await events("staff.sign_in_failed");
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({ actorType: "anonymous", actorName: "sam@example.test", targetId: member.id, outcome: "failure", ip: "203.0.113.7" });
    expect(failures[1]).toMatchObject({ actorName: "nobody@example.test", targetId: null });
    expect(dump(failures)).not.toContain("wrong password!");
    expect(await events("staff.signed_in")).toHaveLength(0);
  });

  it("keeps no trace of what was typed into the email box unless it is a staff email or shaped like one", async () => {
    const typedPassword = "Tr0ub4dor&3-the-password";
    const r = await signInWithPassword(t.db, { email: typedPassword, password: "anything at all" }, meta());
    expect(r).toMatchObject({ ok: false, reason: "invalid" });
    const [ev] = await events("staff.sign_in_failed");
    expect(ev).toMatchObject({
      actorType: "anonymous",
      actorName: null,
      targetId: null,
      details: { email: null, identifier: "not_an_email", reason: "invalid" },
    });
    const everything = await queryRows<{ j: string }>(
      t.db,
      sql`select coalesce((select json_agg(a)::text from audit_events a), '') || coalesce((select json_agg(l)::text from rate_limits l), '') as j`,
    );
    expect(everything[0]!.j.toLowerCase()).not.toContain(typedPassword.toLowerCase());
  });

  it("asks for both fields when one is missing or malformed, without counting it", async () => {
    expect(await signInWithPassword(t.db, { email: "", password: "" }, meta())).toMatchObject({ ok: false, message: "Enter your email and password." });
    expect(await signInWithPassword(t.db, { email: ["a"], password: 5 }, meta())).toMatchObject({ ok: false, message: "Enter your email and password." });
    expect(await events()).toHaveLength(1); // only staff.created
  });

  it(`after ${PAIR_SIGN_IN_LIMIT.max} failures from one address, waits that double — never a lock: the member signs in from elsewhere`, async () => {
    const t0 = new Date("2030-01-01T10:00:00Z");
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    for (let i = 0; i < PAIR_SIGN_IN_LIMIT.max; i++) expect(await attempt(`wrong-${i}-password`, "203.0.113.7", at(i))).toMatchObject({ reason: "invalid" });
    // The next try from that address is refused before the password is checked: the right one too.
    expect(await attempt(PASSWORD, "203.0.113.7", at(10))).toEqual({
      ok: false,
      reason: "rate_limited",
      retryAfterSeconds: 24,
      code: "RateLimited.pair.24",
      message: "Too many failed sign-ins for this account from your network. Try again in 24 seconds; each further failure makes the wait longer.",
    });
    // The member, from their own network, is not affected.
    expect((await attempt(PASSWORD, "198.51.100.9", at(11))).ok).toBe(true);
    // Once the wait is over the guesser gets one more try, and then waits twice as long.
    expect(await attempt("wrong-again-password", "203.0.113.7", at(35))).toMatchObject({ reason: "invalid" });
    expect(await attempt(PASSWORD, "203.0.113.7", at(36))).toMatchObject({ reason: "rate_limited", retryAfterSeconds: 59 });
    const log = await events("staff.sign_in_failed");
    expect(log.filter((e) => e.outcome === "failure")).toHaveLength(PAIR_SIGN_IN_LIMIT.max + 1);
    expect(log.filter((e) => e.outcome === "failure").at(-1)!.details).toMatchObject({ reason: "invalid", blockedForSeconds: 60 });
    // Refusals are not written one by one: one event says the limit is in force.
    expect(log.filter((e) => e.outcome === "denied")).toHaveLength(1);
    expect(log.find((e) => e.outcome === "denied")).toMatchObject({ details: { reason: "rate_limited", limit: "pair", email: "sam@example.test" } });
  });

  it("a successful sign-in starts its address afresh", async () => {
    const now = new Date("2030-01-01T10:00:00Z");
    for (let i = 0; i < PAIR_SIGN_IN_LIMIT.max - 1; i++) await attempt(`wrong-${i}-password`, "203.0.113.7", now);
    expect((await attempt(PASSWORD, "203.0.113.7", now)).ok).toBe(true);
    for (let i = 0; i < PAIR_SIGN_IN_LIMIT.max - 1; i++) await attempt(`wrong-${i}-password`, "203.0.113.7", now);
    expect((await attempt(PASSWORD, "203.0.113.7", now)).ok).toBe(true);
    expect(await events("staff.signed_in")).toHaveLength(2);
    expect((await row(member.id)).lastSignInAt?.toISOString()).toBe(now.toISOString());
  });

  it(`caps one account at ${ACCOUNT_SIGN_IN_LIMIT.max} attempts from anywhere (no address needed), then waits`, async () => {
    const now = new Date("2030-01-01T10:00:00Z");
    for (let i = 0; i < ACCOUNT_SIGN_IN_LIMIT.max; i++) expect(await attempt("wrong-password-1", `192.0.2.${i + 1}`, now)).toMatchObject({ reason: "invalid" });
    const fresh = await attempt(PASSWORD, "192.0.2.200", now);
    expect(fresh).toMatchObject({ ok: false, reason: "rate_limited", retryAfterSeconds: ACCOUNT_SIGN_IN_LIMIT.backoff!.baseSeconds });
    expect(fresh.ok === false && fresh.message).toBe(
      "Too many failed sign-ins for this account. Try again in 15 seconds; each further failure makes the wait longer.",
    );
    // After the wait, the member signs in.
    expect((await attempt(PASSWORD, "192.0.2.200", new Date(now.getTime() + 16_000))).ok).toBe(true);
  });

  it("without a client address, all clients share the account's per-address bucket", async () => {
    const now = new Date("2030-01-01T10:00:00Z");
    for (let i = 0; i < PAIR_SIGN_IN_LIMIT.max; i++) await attempt("wrong-password-1", null, now);
    expect(await attempt(PASSWORD, null, now)).toMatchObject({
      reason: "rate_limited",
      code: "RateLimited.shared.30",
      message: "Too many failed sign-ins for this account. Try again in 30 seconds; each further failure makes the wait longer.",
    });
  });

  it(`limits one address to ${IP_SIGN_IN_LIMIT.max} attempts across accounts, writing unknown emails' failures once per window`, async () => {
    const now = new Date("2030-01-01T10:00:00Z");
    for (let i = 0; i < IP_SIGN_IN_LIMIT.max; i++) {
      expect(await signInWithPassword(t.db, { email: `guess-${i}@example.test`, password: "guessing-password" }, meta("192.0.2.50"), now)).toMatchObject({
        reason: "invalid",
      });
    }
    expect(await attempt(PASSWORD, "192.0.2.50", now)).toMatchObject({
      reason: "rate_limited",
      message: "Too many failed sign-ins from your network. Try again in 60 seconds.",
    });
    expect((await attempt(PASSWORD, "192.0.2.51", now)).ok).toBe(true);
    // Thirty made-up accounts: one event (the first), naming how many so far; no bucket per email.
    const failures = await events("staff.sign_in_failed");
    expect(failures.filter((e) => e.outcome === "failure")).toHaveLength(1);
    const keys = await queryRows<{ key: string }>(t.db, sql`select key from rate_limits order by key`);
    expect(keys.filter((k) => k.key.includes("example.test"))).toEqual([]);
  });

  it("40 parallel wrong passwords: the password is checked 5 times, 35 are refused unchecked", async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(`wrong-${i}-password`)));
    expect(results.filter((r) => r.ok === false && r.reason === "invalid")).toHaveLength(PAIR_SIGN_IN_LIMIT.max);
    expect(results.filter((r) => r.ok === false && r.reason === "rate_limited")).toHaveLength(40 - PAIR_SIGN_IN_LIMIT.max);
    // A checked password is a failure event: exactly five.
    expect((await events("staff.sign_in_failed")).filter((e) => e.outcome === "failure")).toHaveLength(PAIR_SIGN_IN_LIMIT.max);
  });

  it("an account one failure from its limit, hit by 30 concurrent attempts with the right password last, is not signed in", async () => {
    for (let i = 0; i < PAIR_SIGN_IN_LIMIT.max - 1; i++) await attempt(`wrong-${i}-password`);
    // The attempts are started together and reach the database in the order they were started
    // (on PostgreSQL through one connection, so that "last" is deterministic): the first wrong one
    // takes the last free attempt, and none of the others, the right one included, is checked.
    const serial = t.backend === "postgres" ? await openDatabase({ databaseUrl: t.url!, maxConnections: 1 }) : null;
    try {
      const passwords = [...Array.from({ length: 29 }, (_, i) => `guess-${i}-password`), PASSWORD];
      const results = await Promise.all(passwords.map((p) => attempt(p, "203.0.113.7", undefined, serial?.db ?? t.db)));
      expect(results.filter((r) => r.ok)).toHaveLength(0);
      expect(results.at(-1)).toMatchObject({ ok: false, reason: "rate_limited" });
      expect(results.filter((r) => r.ok === false && r.reason === "invalid")).toHaveLength(1);
      expect(await events("staff.signed_in")).toHaveLength(0);
    } finally {
      await serial?.close();
    }
  });

  it("refuses a disabled member even with the right password", async () => {
    await setStaffDisabled(t.db, system, member.id, true, { reason: "staff test" }, meta());
    const r = await signInWithPassword(t.db, { email: "sam@example.test", password: PASSWORD }, meta());
    expect(r).toEqual({ ok: false, reason: "disabled", code: "AccountDisabled", message: "This account is disabled. Ask an admin to enable it." });
    expect((await events("staff.sign_in_failed")).at(-1)).toMatchObject({ targetId: member.id, details: { reason: "disabled" } });
    expect(await events("staff.signed_in")).toHaveLength(0);
  });

  it("signs in, records the event and the time", async () => {
    const now = new Date("2030-02-03T04:05:06Z");
    const r = await signInWithPassword(t.db, { email: " SAM@example.test ", password: PASSWORD }, meta(), now);
    expect(r.ok && r.staff.id).toBe(member.id);
    const [ev] = await events("staff.signed_in");
    expect(ev).toMatchObject({ actorType: "staff", actorId: member.id, actorName: "sam@example.test", details: { method: "password" } });
    expect((await row(member.id)).lastSignInAt?.toISOString()).toBe(now.toISOString());
  });
});

describe("signing out", () => {
  it("ends the session: the cookie's session version is refused afterwards; a second sign-out changes nothing", async () => {
    const m = await createStaff(t.db, system, { email: "out@example.test", role: "admin", password: PASSWORD }, meta());
    const before = await row(m.id);
    expect(await activeStaff(t.db, m.id, before.sessionVersion)).not.toBeNull();
    await signOutStaff(t.db, before, meta());
    expect(await activeStaff(t.db, m.id, before.sessionVersion)).toBeNull();
    expect((await row(m.id)).sessionVersion).toBe(before.sessionVersion + 1);
    await signOutStaff(t.db, before, meta());
    expect((await row(m.id)).sessionVersion).toBe(before.sessionVersion + 1);
    expect(await events("staff.signed_out")).toHaveLength(1);
  });
});

describe("single sign-on", () => {
  const oidc: OidcConfig = {
    issuer: "http://idp.test",
    clientId: "tokendesk",
    clientSecret: "secret",
    displayName: "Test IdP",
    roleClaim: "groups",
    roleMap: [
      { value: "td-admins", role: "admin" },
      { value: "td-support", role: "support" },
    ],
    defaultRole: null,
  };

  it("provisions a member on first sign-in with the mapped role", async () => {
    const r = await signInWithOidc(t.db, { sub: "sub-1", email: "Olga@IdP.test", name: "Olga", claims: { groups: ["other", "td-admins"] } }, oidc, meta());
    expect(r.ok).toBe(true);
    const [s] = await t.db.select().from(staff);
    expect(s).toMatchObject({ email: "olga@idp.test", name: "Olga", role: "admin", oidcSubject: "sub-1", passwordHash: null });
    const created = await events("staff.created");
    expect(created[0]).toMatchObject({ actorType: "system", actorId: "oidc", details: { email: "olga@idp.test", role: "admin", method: "oidc" } });
    expect(await events("staff.signed_in")).toHaveLength(1);
  });

  it("keeps the role in step with the identity provider and ends older sessions when it changes", async () => {
    await signInWithOidc(t.db, { sub: "sub-1", email: "olga@idp.test", claims: { groups: ["td-admins"] } }, oidc, meta());
    const again = await signInWithOidc(t.db, { sub: "sub-1", email: "olga@idp.test", claims: { groups: "td-support" } }, oidc, meta());
    expect(again.ok && again.staff).toMatchObject({ role: "support", sessionVersion: 2 });
    const changed = await events("staff.role_changed");
    expect(changed).toHaveLength(1);
    expect(changed[0]!.details).toMatchObject({ from: "admin", to: "support", method: "oidc" });
    expect(await staffCount()).toBe(1);
  });

  it("links an existing password member by email", async () => {
    const existing = await createStaff(t.db, system, { email: "olga@idp.test", role: "auditor", password: PASSWORD }, meta());
    const r = await signInWithOidc(t.db, { sub: "sub-9", email: "olga@idp.test", claims: { groups: ["td-support"] } }, oidc, meta());
    expect(r.ok && r.staff.id).toBe(existing.id);
    expect(await row(existing.id)).toMatchObject({ oidcSubject: "sub-9", role: "support" });
  });

  it("refuses a user the mapping gives no role, creating nobody", async () => {
    const r = await signInWithOidc(t.db, { sub: "sub-2", email: "nobody@idp.test", claims: { groups: ["marketing"] } }, oidc, meta());
    expect(r).toEqual({
      ok: false,
      reason: "invalid",
      code: "OidcNoRole",
      message: "Your single sign-on account is not in a group that tokendesk gives a role to. Ask an admin.",
    });
    expect(await staffCount()).toBe(0);
    const [ev] = await events("staff.sign_in_failed");
    expect(ev).toMatchObject({ outcome: "denied", details: { method: "oidc", subject: "sub-2", reason: "no_role" } });
  });

  it("gives the default role when configured, and refuses a disabled member", async () => {
    const withDefault = { ...oidc, defaultRole: "auditor" as const };
    const r = await signInWithOidc(t.db, { sub: "sub-3", email: "viewer@idp.test", claims: {} }, withDefault, meta());
    expect(r.ok && r.staff.role).toBe("auditor");
    const id = r.ok ? r.staff.id : "";
    await setStaffDisabled(t.db, system, id, true, { reason: "staff test" }, meta());
    const refused = await signInWithOidc(t.db, { sub: "sub-3", email: "viewer@idp.test", claims: {} }, withDefault, meta());
    expect(refused).toMatchObject({ ok: false, reason: "disabled" });
    const signIns = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "staff.signed_in"), eq(auditEvents.targetId, id)));
    expect(signIns).toHaveLength(1);
  });
});
