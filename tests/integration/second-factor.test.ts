/**
 * Staff second factors (lib/staff/second-factor.ts) and the demo team (lib/demo) on a real
 * database: a password sign-in of a member with a factor yields only a ticket, the ticket completes
 * once with a right code, TOTP steps and recovery codes are single-use (also under concurrency on
 * PostgreSQL), the policy switches are audited and enforced, demo accounts are removed on request.
 */
import { and, eq, sql } from "drizzle-orm";
import { generate } from "otplib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { auditEvents, staff, staffChallenges, staffRecoveryCodes } from "@/db/schema";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { demoAccountCount, removeDemoTeam, seedDemo } from "@/lib/demo";
import { DomainError } from "@/lib/errors";
import {
  beginTotpEnrolment,
  completeSecondStep,
  confirmTotpEnrolment,
  getSecuritySettings,
  MAX_SECOND_STEP_ATTEMPTS,
  mySecondFactors,
  regenerateRecoveryCodes,
  removeTotp,
  resetStaffSecondFactors,
  secondFactorsByStaff,
  secondStepInfo,
  sessionStanding,
  updateSecuritySettings,
} from "@/lib/staff/second-factor";
import { createStaff, resetStaffPassword, type SignInResult, type StaffView, signInWithPassword } from "@/lib/staff/staff";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const system = systemActor("test");
const meta: RequestMeta = { requestId: "req-2fa", ip: "203.0.113.9", userAgent: "vitest" };
const PASSWORD = "correct horse battery";

let t: TestDatabase;
beforeEach(async () => {
  t = await createTestDatabase();
});
afterEach(async () => {
  await t.close();
});

const asStaff = (v: StaffView, extra: Partial<Extract<Actor, { type: "staff" }>> = {}): Actor => ({
  type: "staff",
  id: v.id,
  name: v.email,
  role: v.role,
  ...extra,
});

async function events(action: string) {
  return t.db.select().from(auditEvents).where(eq(auditEvents.action, action));
}

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

/** A member with TOTP enrolled at `at`; returns the member, the secret and the recovery codes. */
async function memberWithTotp(email = "ada@example.test", at = new Date(Date.now() - 120_000)) {
  const member = await createStaff(t.db, system, { email, role: "admin", password: PASSWORD }, meta);
  const enrol = await beginTotpEnrolment(t.db, asStaff(member), at);
  const code = await generate({ secret: enrol.secret, epoch: Math.floor(at.getTime() / 1000) });
  const { recoveryCodes } = await confirmTotpEnrolment(t.db, asStaff(member), { challengeId: enrol.challengeId, code }, meta, at);
  return { member, secret: enrol.secret, recoveryCodes: recoveryCodes! };
}

function ticketOf(result: SignInResult): string {
  expect(result).toMatchObject({ ok: false, reason: "second_factor" });
  return (result as { ticket: string }).ticket;
}

const codeAt = (secret: string, at: Date) => generate({ secret, epoch: Math.floor(at.getTime() / 1000) });

describe("TOTP enrolment", () => {
  it("enables TOTP with a right first code, hands out 10 recovery codes once and stores only their hashes", async () => {
    const { member, secret, recoveryCodes } = await memberWithTotp();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(await mySecondFactors(t.db, asStaff(member))).toMatchObject({ totp: true, passkeys: [], recoveryCodesLeft: 10 });
    const stored = JSON.stringify(await t.db.select().from(staffRecoveryCodes));
    const [row] = await t.db.select().from(staff).where(eq(staff.id, member.id));
    for (const c of recoveryCodes) expect(stored).not.toContain(c);
    expect(row!.totpSecretEncrypted).toBeTruthy();
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(await t.db.select().from(auditEvents), (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(secret);
    expect(await events("staff.second_factor_added")).toHaveLength(1);
  });

  it("refuses a wrong first code and keeps TOTP off", async () => {
    const member = await createStaff(t.db, system, { email: "bo@example.test", role: "support", password: PASSWORD }, meta);
    const enrol = await beginTotpEnrolment(t.db, asStaff(member));
    await expectDomainError(confirmTotpEnrolment(t.db, asStaff(member), { challengeId: enrol.challengeId, code: "000000" }, meta), 400, "invalid_code");
    expect((await mySecondFactors(t.db, asStaff(member))).totp).toBe(false);
    expect(await events("staff.second_factor_added")).toHaveLength(0);
  });
});

describe("signing in with a second factor", () => {
  it("a right password yields only a ticket (no 'signed in'), and a right code completes it once", async () => {
    const start = new Date(Date.now() - 120_000);
    const { member, secret } = await memberWithTotp("ada@example.test", start);
    const first = await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta);
    const ticket = ticketOf(first);
    expect(await events("staff.signed_in")).toHaveLength(0);
    expect(await secondStepInfo(t.db, ticket)).toMatchObject({ ok: true, methods: ["totp", "recovery_code"], enrol: null });

    const wrong = await completeSecondStep(t.db, { ticket, code: "000000" }, meta);
    expect(wrong).toMatchObject({ ok: false, reason: "invalid" });
    expect(await events("staff.second_factor_failed")).toHaveLength(1);

    const now = new Date();
    const code = await codeAt(secret, now);
    const done = await completeSecondStep(t.db, { ticket, code }, meta, now);
    expect(done).toMatchObject({ ok: true, amr: ["pwd", "otp"] });
    expect((done as { staff: { id: string } }).staff.id).toBe(member.id);
    const [signedIn] = await events("staff.signed_in");
    expect(signedIn!.details).toEqual({ method: "password", secondFactor: "totp" });

    // The ticket is spent, and the same code on a fresh ticket is a replay.
    expect(await completeSecondStep(t.db, { ticket, code }, meta, now)).toMatchObject({ ok: false, reason: "expired" });
    const again = ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta));
    expect(await completeSecondStep(t.db, { ticket: again, code }, meta, now)).toMatchObject({ ok: false, reason: "invalid" });
  });

  it(`a ticket dies after ${MAX_SECOND_STEP_ATTEMPTS} tries, and a password reset ends it`, async () => {
    const { secret, member } = await memberWithTotp();
    const ticket = ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta));
    for (let i = 0; i < MAX_SECOND_STEP_ATTEMPTS; i++) await completeSecondStep(t.db, { ticket, code: "000000" }, meta);
    const late = await completeSecondStep(t.db, { ticket, code: await codeAt(secret, new Date()) }, meta);
    expect(late).toMatchObject({ ok: false, reason: "expired" });

    const other = ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta));
    await resetStaffPassword(t.db, system, member.id, "another long password", meta);
    expect(await completeSecondStep(t.db, { ticket: other, code: await codeAt(secret, new Date()) }, meta)).toMatchObject({ ok: false, reason: "expired" });
    expect(await events("staff.signed_in")).toHaveLength(0);
  });

  it("refuses garbage tickets without touching anything", async () => {
    for (const ticket of [undefined, "", "x", "a".repeat(5000), 42, "\u0000".repeat(30)]) {
      expect(await completeSecondStep(t.db, { ticket, code: "123456" }, meta)).toMatchObject({ ok: false, reason: "expired" });
      expect(await secondStepInfo(t.db, ticket)).toMatchObject({ ok: false });
    }
  });

  it("a recovery code works once, in any case and spacing", async () => {
    const { recoveryCodes } = await memberWithTotp();
    const code = recoveryCodes[3]!;
    const ticket = ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta));
    const done = await completeSecondStep(t.db, { ticket, recoveryCode: ` ${code.toUpperCase()} ` }, meta);
    expect(done).toMatchObject({ ok: true, amr: ["pwd", "rec"] });
    const again = ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta));
    expect(await completeSecondStep(t.db, { ticket: again, recoveryCode: code }, meta)).toMatchObject({ ok: false, reason: "invalid" });
    const [{ n }] = (await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from staff_recovery_codes where used_at is null`)) as [{ n: number }];
    expect(Number(n)).toBe(9);
  });

  it("regenerating recovery codes retires the old ones", async () => {
    const { member, recoveryCodes } = await memberWithTotp();
    const fresh = await regenerateRecoveryCodes(t.db, asStaff(member), meta);
    expect(fresh).toHaveLength(10);
    const ticket = ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta));
    expect(await completeSecondStep(t.db, { ticket, recoveryCode: recoveryCodes[0] }, meta)).toMatchObject({ ok: false });
    expect(await completeSecondStep(t.db, { ticket, recoveryCode: fresh[0] }, meta)).toMatchObject({ ok: true });
  });

  it("many parallel completions of one ticket, or one recovery code on many tickets, sign in once", async () => {
    const { secret, recoveryCodes } = await memberWithTotp();
    const ticket = ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta));
    const now = new Date();
    const code = await codeAt(secret, now);
    const results = await Promise.all(Array.from({ length: 5 }, () => completeSecondStep(t.db, { ticket, code }, meta, now)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);

    const tickets: string[] = [];
    for (let i = 0; i < 4; i++) tickets.push(ticketOf(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta)));
    const rec = await Promise.all(tickets.map((tk) => completeSecondStep(t.db, { ticket: tk, recoveryCode: recoveryCodes[0] }, meta)));
    expect(rec.filter((r) => r.ok)).toHaveLength(1);
    expect(await events("staff.signed_in")).toHaveLength(2);
  });
});

describe("the policy", () => {
  it("require a second factor: a member without one enrols at sign-in, then cannot remove their last factor", async () => {
    const admin = await createStaff(t.db, system, { email: "root@example.test", role: "admin", password: PASSWORD }, meta);
    await updateSecuritySettings(t.db, asStaff(admin), { requireSecondFactor: true, productionNeedsStrongAuth: false }, meta);
    const [changed] = await events("settings.changed");
    expect(changed).toMatchObject({ targetType: "security", actorId: admin.id });
    expect(changed!.details).toEqual({ changes: { requireSecondFactor: { from: false, to: true } } });

    const member = await createStaff(t.db, system, { email: "sam@example.test", role: "support", password: PASSWORD }, meta);
    const ticket = ticketOf(await signInWithPassword(t.db, { email: "sam@example.test", password: PASSWORD }, meta));
    const info = await secondStepInfo(t.db, ticket);
    if (!info.ok || !info.enrol) throw new Error("expected an enrolment");
    expect(info.enrol.uri).toMatch(/^otpauth:\/\/totp\/tokendesk:sam%40example\.test\?/);
    const done = await completeSecondStep(t.db, { ticket, code: await codeAt(info.enrol.secret, new Date()) }, meta);
    expect(done).toMatchObject({ ok: true, amr: ["pwd", "otp"] });
    expect((await mySecondFactors(t.db, asStaff(member))).totp).toBe(true);

    await expectDomainError(removeTotp(t.db, asStaff(member), meta), 409, "second_factor_required");
    expect(sessionStanding(await getSecuritySettings(t.db), ["pwd"]).valid).toBe(false);
    expect(sessionStanding(await getSecuritySettings(t.db), ["sso"]).valid).toBe(true);
  });

  it("only admins change the policy", async () => {
    const support = await createStaff(t.db, system, { email: "sam@example.test", role: "support", password: PASSWORD }, meta);
    await expectDomainError(
      updateSecuritySettings(t.db, asStaff(support), { requireSecondFactor: true, productionNeedsStrongAuth: true }, meta),
      403,
      "forbidden",
    );
    expect(await getSecuritySettings(t.db)).toEqual({ requireSecondFactor: false, productionNeedsStrongAuth: false });
  });

  it("a production-locked session may not change production, but may read it and act in sandbox", async () => {
    const support = await createStaff(t.db, system, { email: "sam@example.test", role: "support", password: PASSWORD }, meta);
    const admin = await createStaff(t.db, system, { email: "root@example.test", role: "admin", password: PASSWORD }, meta);
    await updateSecuritySettings(t.db, asStaff(admin), { requireSecondFactor: false, productionNeedsStrongAuth: true }, meta);
    const standing = sessionStanding(await getSecuritySettings(t.db), ["pwd"]);
    expect(standing).toEqual({ valid: true, productionLocked: true });
    const locked = asStaff(support, { productionLocked: standing.productionLocked });
    const { createApiKey } = await import("@/lib/api-keys");
    const err = await expectDomainError(
      createApiKey(t.db, asStaff(admin, { productionLocked: true }), { name: "prod", environment: "production", region: "us", scopes: ["users:read"] }, meta),
      403,
      "strong_auth_required",
    );
    expect(err.message).toMatch(/second factor or single sign-on/);
    await createApiKey(t.db, asStaff(admin, { productionLocked: true }), { name: "sb", environment: "sandbox", region: "us", scopes: ["users:read"] }, meta);
    const { assertStaffCan } = await import("@/lib/staff/authorize");
    expect(() => assertStaffCan(locked, "users:issue_tokens", "production")).toThrow(/second factor/);
    expect(() => assertStaffCan(locked, "users:read", "production")).not.toThrow();
    expect(() => assertStaffCan(locked, "users:issue_tokens", "sandbox")).not.toThrow();
  });

  it("an admin reset removes every factor and ends the member's sessions", async () => {
    const { member } = await memberWithTotp();
    const admin = await createStaff(t.db, system, { email: "root@example.test", role: "admin", password: PASSWORD }, meta);
    expect((await secondFactorsByStaff(t.db, asStaff(admin))).get(member.id)).toEqual({ totp: true, passkeys: 0 });
    await resetStaffSecondFactors(t.db, asStaff(admin), member.id, meta);
    expect((await secondFactorsByStaff(t.db, asStaff(admin))).get(member.id)).toEqual({ totp: false, passkeys: 0 });
    expect(await mySecondFactors(t.db, asStaff(member))).toMatchObject({ totp: false, recoveryCodesLeft: 0 });
    const [row] = await t.db.select().from(staff).where(eq(staff.id, member.id));
    expect(row!.sessionVersion).toBe(2);
    expect(await signInWithPassword(t.db, { email: "ada@example.test", password: PASSWORD }, meta)).toMatchObject({ ok: true });
    const left = await t.db
      .select()
      .from(staffChallenges)
      .where(and(eq(staffChallenges.staffId, member.id), eq(staffChallenges.purpose, "sign_in")));
    expect(left).toHaveLength(0);
  });
});

describe("the demo team", () => {
  it("is marked, and removed only once an admin of the deployment's own exists — audited", async () => {
    expect(await seedDemo(t.db)).toBe(true);
    expect(await demoAccountCount(t.db)).toBe(4);
    const [demoAdmin] = await t.db.select().from(staff).where(eq(staff.email, "admin@demo.tokendesk.dev"));
    await expectDomainError(removeDemoTeam(t.db, system, meta), 409, "no_own_admin");
    const own = await createStaff(t.db, system, { email: "me@example.test", role: "admin", password: PASSWORD }, meta);
    await expectDomainError(removeDemoTeam(t.db, { type: "staff", id: demoAdmin!.id, name: demoAdmin!.email, role: "admin" }, meta), 409, "demo_self");
    expect(await demoAccountCount(t.db)).toBe(4);
    const { removed } = await removeDemoTeam(t.db, asStaff(own), meta);
    expect(removed).toHaveLength(4);
    expect(await demoAccountCount(t.db)).toBe(0);
    const [ev] = await events("staff.demo_removed");
    expect(ev).toMatchObject({ actorId: own.id, outcome: "success" });
    expect(await signInWithPassword(t.db, { email: "admin@demo.tokendesk.dev", password: "demo-admin-password" }, meta)).toMatchObject({ ok: false });
    expect((await removeDemoTeam(t.db, asStaff(own), meta)).removed).toEqual([]);
    expect(await events("staff.demo_removed")).toHaveLength(1);
  });
});
