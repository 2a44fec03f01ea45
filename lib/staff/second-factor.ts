/**
 * Staff second factors — TOTP (otplib), passkeys (WebAuthn through @simplewebauthn/server) and
 * one-time recovery codes — the second step of a password sign-in, and the deployment's sign-in
 * policy ("require a second factor", "production actions need a second factor or SSO").
 *
 * A password sign-in of a member who has a factor (or must enrol one) does not create a session:
 * it hands the browser a ticket, good for five minutes and five attempts, that can only complete
 * the second step. Nothing else accepts a ticket, so a half-signed-in browser reaches nothing.
 * Every code is single-use: a TOTP step is accepted once per member, a recovery code once, a
 * ticket once — each by one conditional UPDATE, so parallel replays cannot both win.
 */
import { randomBytes } from "node:crypto";
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { and, asc, count, eq, gt, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { generateSecret, generateURI, verify as verifyTotp } from "otplib";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { type SecuritySettings, type Staff, securitySettings, staff, staffChallenges, staffPasskeys, staffRecoveryCodes } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import { config } from "@/lib/config/env";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret, openSecret, sealSecret } from "@/lib/crypto/keys";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { admit, humanDuration, type Limit, resetLimit } from "@/lib/rate-limit";
import { assertStaffCan } from "./authorize";

const TICKET_TTL_MS = 5 * 60_000;
const ENROL_TTL_MS = 10 * 60_000;
export const MAX_SECOND_STEP_ATTEMPTS = 5;
export const RECOVERY_CODE_COUNT = 10;
/** Second-step attempts per member, over every ticket. */
export const SECOND_STEP_LIMIT: Limit = { max: 10, windowSeconds: 15 * 60 };
const ISSUER = "tokendesk";

/**
 * How a session was signed in (RFC 8176 names): `pwd` password, `otp` TOTP, `hwk` passkey,
 * `rec` recovery code (not an RFC name), `sso` single sign-on.
 */
export type AuthMethod = "pwd" | "otp" | "hwk" | "rec" | "sso";
export type SecondFactorMethod = "totp" | "passkey" | "recovery_code";

/** A second factor or single sign-on: what "strong" means for the policy switches. */
export function isStrongAuth(amr: readonly string[]): boolean {
  return amr.some((m) => m === "otp" || m === "hwk" || m === "rec" || m === "sso");
}

const staffTarget = (id: string) => ({ type: "staff", id });
const actorOf = (s: Pick<Staff, "id" | "email" | "role">): Actor => ({ type: "staff", id: s.id, name: s.email, role: s.role });

// ---------------------------------------------------------------------------------------------
// The policy
// ---------------------------------------------------------------------------------------------

export type SecurityPolicy = Pick<SecuritySettings, "requireSecondFactor" | "productionNeedsStrongAuth">;
const DEFAULT_POLICY: SecurityPolicy = { requireSecondFactor: false, productionNeedsStrongAuth: false };

export async function getSecuritySettings(db: Executor): Promise<SecurityPolicy> {
  const [row] = await db.select().from(securitySettings).where(eq(securitySettings.id, 1));
  return row ? { requireSecondFactor: row.requireSecondFactor, productionNeedsStrongAuth: row.productionNeedsStrongAuth } : DEFAULT_POLICY;
}

export const securitySettingsInput = z.object({ requireSecondFactor: z.boolean(), productionNeedsStrongAuth: z.boolean() });

export async function updateSecuritySettings(db: Database, actor: Actor, input: SecurityPolicy, meta: RequestMeta): Promise<SecurityPolicy> {
  assertStaffCan(actor, "settings:manage");
  const next = securitySettingsInput.parse(input);
  return db.transaction(async (tx) => {
    const before = await getSecuritySettings(tx);
    await tx
      .insert(securitySettings)
      .values({ id: 1, ...next, updatedAt: new Date(), updatedBy: actor.id })
      .onConflictDoUpdate({ target: securitySettings.id, set: { ...next, updatedAt: new Date(), updatedBy: actor.id } });
    const changes: Record<string, { from: boolean; to: boolean }> = {};
    for (const k of Object.keys(next) as Array<keyof SecurityPolicy>) if (before[k] !== next[k]) changes[k] = { from: before[k], to: next[k] };
    if (Object.keys(changes).length) {
      await recordAudit(tx, { actor, action: "settings.changed", target: { type: "security", id: "sign-in" }, details: { changes } }, meta);
    }
    return next;
  });
}

/**
 * What a console session may do under the current policy: `valid` is false when the deployment
 * requires a second factor and this password session was signed in without one (it must sign in
 * again); `productionLocked` when production actions need a second factor or SSO and it has neither.
 */
export function sessionStanding(policy: SecurityPolicy, amr: readonly string[]): { valid: boolean; productionLocked: boolean } {
  const strong = isStrongAuth(amr);
  return { valid: !policy.requireSecondFactor || strong, productionLocked: policy.productionNeedsStrongAuth && !strong };
}

// ---------------------------------------------------------------------------------------------
// What a member has
// ---------------------------------------------------------------------------------------------

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface SecondFactorSummary {
  totp: boolean;
  passkeys: PasskeyView[];
  recoveryCodesLeft: number;
}

async function summaryOf(db: Executor, staffId: string): Promise<SecondFactorSummary> {
  const [row] = await db.select({ totp: staff.totpSecretEncrypted }).from(staff).where(eq(staff.id, staffId));
  const passkeys = await db
    .select({ id: staffPasskeys.id, name: staffPasskeys.name, createdAt: staffPasskeys.createdAt, lastUsedAt: staffPasskeys.lastUsedAt })
    .from(staffPasskeys)
    .where(eq(staffPasskeys.staffId, staffId))
    .orderBy(asc(staffPasskeys.createdAt));
  const [codes] = await db
    .select({ n: count() })
    .from(staffRecoveryCodes)
    .where(and(eq(staffRecoveryCodes.staffId, staffId), isNull(staffRecoveryCodes.usedAt)));
  return { totp: Boolean(row?.totp), passkeys, recoveryCodesLeft: Number(codes?.n ?? 0) };
}

function selfOf(actor: Actor): Extract<Actor, { type: "staff" }> {
  if (actor.type !== "staff") throw new DomainError("forbidden", "Only a signed-in staff member manages their own second factors.");
  return actor;
}

/** The signed-in member's own factors (the Security page). */
export async function mySecondFactors(db: Executor, actor: Actor): Promise<SecondFactorSummary> {
  return summaryOf(db, selfOf(actor).id);
}

/** Which members have which factors, for the staff page. */
export async function secondFactorsByStaff(db: Executor, actor: Actor): Promise<Map<string, { totp: boolean; passkeys: number }>> {
  assertStaffCan(actor, "staff:manage");
  const rows = await db
    .select({ id: staff.id, totp: staff.totpSecretEncrypted, passkeys: sql<number>`count(${staffPasskeys.id})::int` })
    .from(staff)
    .leftJoin(staffPasskeys, eq(staffPasskeys.staffId, staff.id))
    .groupBy(staff.id);
  return new Map(rows.map((r) => [r.id, { totp: Boolean(r.totp), passkeys: Number(r.passkeys) }]));
}

async function hasSecondFactor(db: Executor, s: Pick<Staff, "id" | "totpSecretEncrypted">): Promise<boolean> {
  if (s.totpSecretEncrypted) return true;
  const [p] = await db.select({ n: count() }).from(staffPasskeys).where(eq(staffPasskeys.staffId, s.id));
  return Number(p?.n ?? 0) > 0;
}

async function lockSelf(tx: Executor, id: string): Promise<Staff> {
  const [row] = await tx.select().from(staff).where(eq(staff.id, id)).for("update");
  if (!row || row.disabledAt) throw new DomainError("forbidden", "Your account is not active.");
  return row;
}

/** Refuses removing a member's last factor while the deployment requires one. */
async function assertMayRemoveFactor(tx: Executor, row: Staff, remaining: { totp: boolean; passkeys: number }): Promise<void> {
  if (remaining.totp || remaining.passkeys > 0 || !row.passwordHash) return;
  if ((await getSecuritySettings(tx)).requireSecondFactor) {
    throw new DomainError("second_factor_required", "This deployment requires a second factor: add another one before removing this one.");
  }
}

// ---------------------------------------------------------------------------------------------
// TOTP
// ---------------------------------------------------------------------------------------------

const codeSchema = z
  .string()
  .transform((v) => v.replace(/\s+/g, ""))
  .pipe(z.string().regex(/^\d{6}$/, "must be the 6 digits your app shows"));

/** The TOTP time step `code` matches for `secret` (one step either side, for clock drift), after `afterStep`. */
async function matchingStep(secret: string, code: string, afterStep: number | null, now: Date): Promise<number | null> {
  const parsed = codeSchema.safeParse(code);
  if (!parsed.success) return null;
  const result = await verifyTotp({
    secret,
    token: parsed.data,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: 30,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  // The TOTP strategy's result names the matched time step (the union type includes HOTP's).
  return result.valid ? (result as { timeStep: number }).timeStep : null;
}

function otpauthUri(email: string, secret: string): string {
  return generateURI({ issuer: ISSUER, label: email, secret });
}

export interface TotpEnrolment {
  challengeId: string;
  /** Base32, for typing into an app that cannot scan. */
  secret: string;
  /** otpauth:// URI for the QR code. */
  uri: string;
}

export async function beginTotpEnrolment(db: Database, actor: Actor, now = new Date()): Promise<TotpEnrolment> {
  const self = selfOf(actor);
  return db.transaction(async (tx) => {
    const row = await lockSelf(tx, self.id);
    if (row.totpSecretEncrypted) throw new DomainError("totp_exists", "You already use an authenticator app; remove it first to set up another.");
    const secret = generateSecret();
    const challengeId = newId();
    await tx.delete(staffChallenges).where(and(eq(staffChallenges.staffId, row.id), eq(staffChallenges.purpose, "totp_enrol")));
    await tx.insert(staffChallenges).values({
      id: challengeId,
      staffId: row.id,
      purpose: "totp_enrol",
      staffVersion: row.sessionVersion,
      totpSecretEncrypted: sealSecret("staff-totp", secret),
      expiresAt: new Date(now.getTime() + ENROL_TTL_MS),
    });
    return { challengeId, secret, uri: otpauthUri(row.email, secret) };
  });
}

/** Makes recovery codes, replacing any unused ones; returns them in the clear, once. */
async function issueRecoveryCodes(tx: Executor, staffId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await tx.delete(staffRecoveryCodes).where(eq(staffRecoveryCodes.staffId, staffId));
  await tx.insert(staffRecoveryCodes).values(codes.map((c) => ({ id: newId(), staffId, codeHash: recoveryCodeHash(c) })));
  return codes;
}

/** Recovery codes come with a member's first factor; later factors leave theirs as they are. */
async function firstFactorCodes(tx: Executor, staffId: string): Promise<string[] | null> {
  const [left] = await tx.select({ n: count() }).from(staffRecoveryCodes).where(eq(staffRecoveryCodes.staffId, staffId));
  return Number(left?.n ?? 0) === 0 ? issueRecoveryCodes(tx, staffId) : null;
}

/** Confirms an enrolment with a first code; returns fresh recovery codes if the member had none. */
export async function confirmTotpEnrolment(
  db: Database,
  actor: Actor,
  input: { challengeId: string; code: string },
  meta: RequestMeta,
  now = new Date(),
): Promise<{ recoveryCodes: string[] | null }> {
  const self = selfOf(actor);
  if (!isUuid(input.challengeId)) throw new DomainError("not_found", "That set-up has expired; start again.");
  return db.transaction(async (tx) => {
    const row = await lockSelf(tx, self.id);
    const [ch] = await tx
      .update(staffChallenges)
      .set({ attempts: sql`${staffChallenges.attempts} + 1` })
      .where(
        and(
          eq(staffChallenges.id, input.challengeId),
          eq(staffChallenges.staffId, row.id),
          eq(staffChallenges.purpose, "totp_enrol"),
          isNull(staffChallenges.usedAt),
          gt(staffChallenges.expiresAt, now),
          lt(staffChallenges.attempts, MAX_SECOND_STEP_ATTEMPTS),
        ),
      )
      .returning();
    if (!ch?.totpSecretEncrypted) throw new DomainError("enrolment_expired", "That set-up has expired; start again.");
    const secret = openSecret("staff-totp", ch.totpSecretEncrypted);
    const step = await matchingStep(secret, input.code, null, now);
    if (step === null)
      throw new DomainError("invalid_code", "That code is not right. Check the time on your phone and enter the code it shows now.", { field: "code" });
    await tx.update(staffChallenges).set({ usedAt: now }).where(eq(staffChallenges.id, ch.id));
    await tx
      .update(staff)
      .set({ totpSecretEncrypted: ch.totpSecretEncrypted, totpLastStep: step, totpEnabledAt: now, updatedAt: now })
      .where(eq(staff.id, row.id));
    const recoveryCodes = await firstFactorCodes(tx, row.id);
    await recordAudit(tx, { actor, action: "staff.second_factor_added", target: staffTarget(row.id), details: { method: "totp" } }, meta);
    return { recoveryCodes };
  });
}

export async function removeTotp(db: Database, actor: Actor, meta: RequestMeta): Promise<void> {
  const self = selfOf(actor);
  await db.transaction(async (tx) => {
    const row = await lockSelf(tx, self.id);
    if (!row.totpSecretEncrypted) return;
    const [p] = await tx.select({ n: count() }).from(staffPasskeys).where(eq(staffPasskeys.staffId, row.id));
    await assertMayRemoveFactor(tx, row, { totp: false, passkeys: Number(p?.n ?? 0) });
    await tx.update(staff).set({ totpSecretEncrypted: null, totpLastStep: null, totpEnabledAt: null, updatedAt: new Date() }).where(eq(staff.id, row.id));
    await recordAudit(tx, { actor, action: "staff.second_factor_removed", target: staffTarget(row.id), details: { method: "totp" } }, meta);
  });
}

// ---------------------------------------------------------------------------------------------
// Passkeys (WebAuthn)
// ---------------------------------------------------------------------------------------------

/** The relying party is the console's public origin: passkeys are bound to it. */
export function relyingParty(): { id: string; origin: string; name: string } {
  const url = new URL(config().publicUrl);
  return { id: url.hostname, origin: url.origin, name: ISSUER };
}

export async function beginPasskeyEnrolment(
  db: Database,
  actor: Actor,
  now = new Date(),
): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  const self = selfOf(actor);
  const rp = relyingParty();
  return db.transaction(async (tx) => {
    const row = await lockSelf(tx, self.id);
    const existing = await tx
      .select({ id: staffPasskeys.id, transports: staffPasskeys.transports })
      .from(staffPasskeys)
      .where(eq(staffPasskeys.staffId, row.id));
    const options = await generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: row.email,
      userDisplayName: row.name,
      userID: Buffer.from(row.id.replace(/-/g, ""), "hex"),
      attestationType: "none",
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    });
    const challengeId = newId();
    await tx.delete(staffChallenges).where(and(eq(staffChallenges.staffId, row.id), eq(staffChallenges.purpose, "passkey_enrol")));
    await tx.insert(staffChallenges).values({
      id: challengeId,
      staffId: row.id,
      purpose: "passkey_enrol",
      staffVersion: row.sessionVersion,
      webauthnChallenge: options.challenge,
      expiresAt: new Date(now.getTime() + ENROL_TTL_MS),
    });
    return { challengeId, options };
  });
}

const passkeyName = z.string().trim().min(1, "is required").max(60, "must be at most 60 characters");

export async function finishPasskeyEnrolment(
  db: Database,
  actor: Actor,
  input: { challengeId: string; name: string; response: unknown },
  meta: RequestMeta,
  now = new Date(),
): Promise<{ recoveryCodes: string[] | null }> {
  const self = selfOf(actor);
  const name = parseInput(z.object({ name: passkeyName.meta({ title: "Name" }) }), { name: input.name }).name;
  if (!isUuid(input.challengeId)) throw new DomainError("enrolment_expired", "That set-up has expired; start again.");
  const rp = relyingParty();
  return db.transaction(async (tx) => {
    const row = await lockSelf(tx, self.id);
    const [ch] = await tx
      .update(staffChallenges)
      .set({ usedAt: now })
      .where(
        and(
          eq(staffChallenges.id, input.challengeId),
          eq(staffChallenges.staffId, row.id),
          eq(staffChallenges.purpose, "passkey_enrol"),
          isNull(staffChallenges.usedAt),
          gt(staffChallenges.expiresAt, now),
        ),
      )
      .returning();
    if (!ch?.webauthnChallenge) throw new DomainError("enrolment_expired", "That set-up has expired; start again.");
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        response: input.response as RegistrationResponseJSON,
        expectedChallenge: ch.webauthnChallenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        requireUserVerification: false,
      });
    } catch {
      throw new DomainError("passkey_invalid", "The passkey's answer could not be verified; try again.");
    }
    if (!verification.verified) throw new DomainError("passkey_invalid", "The passkey's answer could not be verified; try again.");
    const { credential } = verification.registrationInfo;
    const [clash] = await tx.select({ id: staffPasskeys.id }).from(staffPasskeys).where(eq(staffPasskeys.id, credential.id));
    if (clash) throw new DomainError("passkey_exists", "This passkey is already registered.");
    await tx.insert(staffPasskeys).values({
      id: credential.id,
      staffId: row.id,
      name,
      publicKey: Buffer.from(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports ?? [],
    });
    const recoveryCodes = await firstFactorCodes(tx, row.id);
    await recordAudit(tx, { actor, action: "staff.second_factor_added", target: staffTarget(row.id), details: { method: "passkey", name } }, meta);
    return { recoveryCodes };
  });
}

export async function removePasskey(db: Database, actor: Actor, id: string, meta: RequestMeta): Promise<void> {
  const self = selfOf(actor);
  await db.transaction(async (tx) => {
    const row = await lockSelf(tx, self.id);
    const keys = await tx.select({ id: staffPasskeys.id, name: staffPasskeys.name }).from(staffPasskeys).where(eq(staffPasskeys.staffId, row.id));
    const key = keys.find((k) => k.id === id);
    if (!key) throw new DomainError("not_found", "No such passkey.");
    await assertMayRemoveFactor(tx, row, { totp: Boolean(row.totpSecretEncrypted), passkeys: keys.length - 1 });
    await tx.delete(staffPasskeys).where(and(eq(staffPasskeys.id, id), eq(staffPasskeys.staffId, row.id)));
    await recordAudit(tx, { actor, action: "staff.second_factor_removed", target: staffTarget(row.id), details: { method: "passkey", name: key.name } }, meta);
  });
}

// ---------------------------------------------------------------------------------------------
// Recovery codes
// ---------------------------------------------------------------------------------------------

const CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** 12 characters from a 31-letter alphabet (≈59 bits), shown as xxxx-xxxx-xxxx. */
function newRecoveryCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]);
  return `${chars.slice(0, 4).join("")}-${chars.slice(4, 8).join("")}-${chars.slice(8).join("")}`;
}

function recoveryCodeHash(code: string): string {
  return hashSecret(`staff-recovery:${code.toLowerCase().replace(/[^a-z0-9]/g, "")}`);
}

/** New recovery codes for the signed-in member (the old ones stop working); shown once. */
export async function regenerateRecoveryCodes(db: Database, actor: Actor, meta: RequestMeta): Promise<string[]> {
  const self = selfOf(actor);
  return db.transaction(async (tx) => {
    const row = await lockSelf(tx, self.id);
    if (!(await hasSecondFactor(tx, row)))
      throw new DomainError("no_second_factor", "Add an authenticator app or a passkey first: recovery codes stand in for one.");
    const codes = await issueRecoveryCodes(tx, row.id);
    await recordAudit(tx, { actor, action: "staff.recovery_codes_generated", target: staffTarget(row.id), details: { count: codes.length } }, meta);
    return codes;
  });
}

// ---------------------------------------------------------------------------------------------
// The second step of a password sign-in
// ---------------------------------------------------------------------------------------------

export interface SecondStepRequired {
  ok: false;
  reason: "second_factor";
  message: string;
  /** Held by the browser; completes the sign-in and nothing else. */
  ticket: string;
}

/**
 * Called once the password is right: null when the member signs in with it alone, otherwise a
 * ticket for the second step (with a TOTP secret to enrol when the policy requires a factor the
 * member does not have yet).
 */
export async function startSecondStep(db: Executor, row: Staff, now = new Date()): Promise<SecondStepRequired | null> {
  const has = await hasSecondFactor(db, row);
  const enrol = !has && (await getSecuritySettings(db)).requireSecondFactor;
  if (!has && !enrol) return null;
  const ticket = randomBytes(32).toString("base64url");
  await db.delete(staffChallenges).where(and(eq(staffChallenges.purpose, "sign_in"), lt(staffChallenges.expiresAt, now)));
  await db.insert(staffChallenges).values({
    id: newId(),
    staffId: row.id,
    purpose: "sign_in",
    ticketHash: hashSecret(`staff-ticket:${ticket}`),
    staffVersion: row.sessionVersion,
    totpSecretEncrypted: enrol ? sealSecret("staff-totp", generateSecret()) : null,
    expiresAt: new Date(now.getTime() + TICKET_TTL_MS),
  });
  return {
    ok: false,
    reason: "second_factor",
    message: enrol ? "Set up an authenticator app to finish signing in." : "Confirm it is you with your second factor.",
    ticket,
  };
}

const EXPIRED = "This sign-in took too long or had too many tries. Sign in again.";

async function liveTicket(db: Executor, ticket: unknown, now: Date) {
  if (typeof ticket !== "string" || ticket.length < 20 || ticket.length > 100) return null;
  const [ch] = await db
    .select()
    .from(staffChallenges)
    .where(
      and(
        eq(staffChallenges.ticketHash, hashSecret(`staff-ticket:${ticket}`)),
        eq(staffChallenges.purpose, "sign_in"),
        isNull(staffChallenges.usedAt),
        gt(staffChallenges.expiresAt, now),
        lt(staffChallenges.attempts, MAX_SECOND_STEP_ATTEMPTS),
      ),
    );
  return ch ?? null;
}

export type SecondStepInfo =
  | { ok: true; email: string; methods: SecondFactorMethod[]; enrol: { secret: string; uri: string } | null }
  | { ok: false; message: string };

/** What the sign-in page offers for a ticket: the member's methods, or the secret to enrol. */
export async function secondStepInfo(db: Executor, ticket: unknown, now = new Date()): Promise<SecondStepInfo> {
  const ch = await liveTicket(db, ticket, now);
  if (!ch) return { ok: false, message: EXPIRED };
  const [row] = await db.select().from(staff).where(eq(staff.id, ch.staffId));
  if (!row) return { ok: false, message: EXPIRED };
  if (ch.totpSecretEncrypted) {
    const secret = openSecret("staff-totp", ch.totpSecretEncrypted);
    return { ok: true, email: row.email, methods: ["totp"], enrol: { secret, uri: otpauthUri(row.email, secret) } };
  }
  const s = await summaryOf(db, row.id);
  const methods: SecondFactorMethod[] = [];
  if (s.totp) methods.push("totp");
  if (s.passkeys.length) methods.push("passkey");
  if (s.recoveryCodesLeft) methods.push("recovery_code");
  return { ok: true, email: row.email, methods, enrol: null };
}

/** WebAuthn options for a ticket's passkey step; the challenge is kept on the ticket. */
export async function passkeyOptionsForTicket(db: Executor, ticket: unknown, now = new Date()): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
  const ch = await liveTicket(db, ticket, now);
  if (!ch || ch.totpSecretEncrypted) return null;
  const keys = await db.select({ id: staffPasskeys.id, transports: staffPasskeys.transports }).from(staffPasskeys).where(eq(staffPasskeys.staffId, ch.staffId));
  if (!keys.length) return null;
  const options = await generateAuthenticationOptions({
    rpID: relyingParty().id,
    allowCredentials: keys.map((k) => ({ id: k.id, transports: k.transports })),
    userVerification: "preferred",
  });
  await db.update(staffChallenges).set({ webauthnChallenge: options.challenge }).where(eq(staffChallenges.id, ch.id));
  return options;
}

export interface SecondStepInput {
  ticket: unknown;
  code?: unknown;
  recoveryCode?: unknown;
  /** The JSON of an AuthenticationResponseJSON from @simplewebauthn/browser. */
  passkey?: unknown;
}

export type SecondStepResult = { ok: true; staff: Staff; amr: AuthMethod[] } | { ok: false; reason: "invalid" | "expired"; message: string };

/**
 * Completes a password sign-in with its second factor. The attempt is counted before anything is
 * checked (five per ticket), and the ticket, the TOTP step, the recovery code and the passkey
 * counter are each consumed by a conditional UPDATE in one transaction.
 */
export async function completeSecondStep(db: Database, input: SecondStepInput, meta: RequestMeta, now = new Date()): Promise<SecondStepResult> {
  const expired = { ok: false as const, reason: "expired" as const, message: EXPIRED };
  if (typeof input.ticket !== "string" || input.ticket.length < 20 || input.ticket.length > 100) return expired;
  const [ch] = await db
    .update(staffChallenges)
    .set({ attempts: sql`${staffChallenges.attempts} + 1` })
    .where(
      and(
        eq(staffChallenges.ticketHash, hashSecret(`staff-ticket:${input.ticket}`)),
        eq(staffChallenges.purpose, "sign_in"),
        isNull(staffChallenges.usedAt),
        gt(staffChallenges.expiresAt, now),
        lt(staffChallenges.attempts, MAX_SECOND_STEP_ATTEMPTS),
      ),
    )
    .returning();
  if (!ch) return expired;
  const [row] = await db.select().from(staff).where(eq(staff.id, ch.staffId));
  if (!row || row.disabledAt || row.sessionVersion !== ch.staffVersion) return expired;
  // Counted before checking, across tickets: a member's second factor cannot be guessed faster
  // than this by signing in again and again with a known password.
  const limit = await admit(db, `staff-second-factor:${row.id}`, SECOND_STEP_LIMIT, now);
  if (!limit.admitted) {
    return {
      ok: false,
      reason: "expired",
      message: `Too many second-factor attempts for this account. Try again in ${humanDuration(limit.retryAfterSeconds)}.`,
    };
  }

  type Proof =
    | { method: "totp"; step: number; secretSealed: string | null }
    | { method: "recovery_code"; hash: string }
    | { method: "passkey"; id: string; counter: number };
  let proof: Proof | null = null;
  if (typeof input.code === "string" && input.code) {
    const sealed = ch.totpSecretEncrypted ?? row.totpSecretEncrypted;
    if (sealed) {
      const step = await matchingStep(openSecret("staff-totp", sealed), input.code, ch.totpSecretEncrypted ? null : row.totpLastStep, now);
      if (step !== null) proof = { method: "totp", step, secretSealed: ch.totpSecretEncrypted };
    }
  } else if (typeof input.recoveryCode === "string" && input.recoveryCode && input.recoveryCode.length <= 64 && !ch.totpSecretEncrypted) {
    proof = { method: "recovery_code", hash: recoveryCodeHash(input.recoveryCode) };
  } else if (typeof input.passkey === "string" && input.passkey && input.passkey.length <= 16_384 && ch.webauthnChallenge && !ch.totpSecretEncrypted) {
    proof = await passkeyProof(db, row.id, input.passkey, ch.webauthnChallenge);
  }

  const method: SecondFactorMethod | "none" = proof?.method ?? (input.passkey ? "passkey" : input.recoveryCode ? "recovery_code" : "totp");
  const fail = async (): Promise<SecondStepResult> => {
    await recordAudit(
      db,
      {
        actor: { type: "anonymous", id: null, name: row.email },
        action: "staff.second_factor_failed",
        target: staffTarget(row.id),
        outcome: "failure",
        details: { method },
      },
      meta,
    );
    const left = MAX_SECOND_STEP_ATTEMPTS - ch.attempts;
    const what =
      method === "passkey" ? "The passkey was not accepted." : method === "recovery_code" ? "That recovery code is not valid." : "That code is not right.";
    return left > 0 ? { ok: false, reason: "invalid", message: `${what} ${left} ${left === 1 ? "try" : "tries"} left.` } : expired;
  };
  if (!proof) return fail();
  const p = proof;

  // A lost race (the ticket, step, code or counter consumed meanwhile) rolls everything back.
  const spent = new Error("second factor already used");
  const done = await db
    .transaction(async (tx) => {
      const [used] = await tx
        .update(staffChallenges)
        .set({ usedAt: now })
        .where(and(eq(staffChallenges.id, ch.id), isNull(staffChallenges.usedAt)))
        .returning({ id: staffChallenges.id });
      if (!used) throw spent;
      if (p.method === "totp") {
        const [ok] = await tx
          .update(staff)
          .set(
            p.secretSealed
              ? { totpSecretEncrypted: p.secretSealed, totpEnabledAt: now, totpLastStep: p.step, lastSignInAt: now }
              : { totpLastStep: p.step, lastSignInAt: now },
          )
          .where(and(eq(staff.id, row.id), or(isNull(staff.totpLastStep), lt(staff.totpLastStep, p.step))))
          .returning({ id: staff.id });
        if (!ok) throw spent;
        if (p.secretSealed) {
          await recordAudit(
            tx,
            { actor: actorOf(row), action: "staff.second_factor_added", target: staffTarget(row.id), details: { method: "totp", atSignIn: true } },
            meta,
          );
        }
      } else if (p.method === "recovery_code") {
        const [ok] = await tx
          .update(staffRecoveryCodes)
          .set({ usedAt: now })
          .where(and(eq(staffRecoveryCodes.staffId, row.id), eq(staffRecoveryCodes.codeHash, p.hash), isNull(staffRecoveryCodes.usedAt)))
          .returning({ id: staffRecoveryCodes.id });
        if (!ok) throw spent;
      } else {
        const [ok] = await tx
          .update(staffPasskeys)
          .set({ counter: p.counter, lastUsedAt: now })
          .where(and(eq(staffPasskeys.id, p.id), eq(staffPasskeys.staffId, row.id), or(eq(staffPasskeys.counter, 0), lt(staffPasskeys.counter, p.counter))))
          .returning({ id: staffPasskeys.id });
        if (!ok) throw spent;
      }
      await resetLimit(tx, `staff-second-factor:${row.id}`);
      if (p.method !== "totp") await tx.update(staff).set({ lastSignInAt: now }).where(eq(staff.id, row.id));
      await recordAudit(
        tx,
        { actor: actorOf(row), action: "staff.signed_in", target: staffTarget(row.id), details: { method: "password", secondFactor: p.method } },
        meta,
      );
      return true;
    })
    .catch((err: unknown) => {
      if (err === spent) return false;
      throw err;
    });
  if (!done) return fail();
  const amr: AuthMethod[] = ["pwd", p.method === "totp" ? "otp" : p.method === "passkey" ? "hwk" : "rec"];
  return { ok: true, staff: row, amr };
}

async function passkeyProof(db: Executor, staffId: string, raw: string, challenge: string): Promise<{ method: "passkey"; id: string; counter: number } | null> {
  let response: AuthenticationResponseJSON;
  try {
    response = JSON.parse(raw) as AuthenticationResponseJSON;
  } catch {
    return null;
  }
  if (typeof response?.id !== "string") return null;
  const [key] = await db
    .select()
    .from(staffPasskeys)
    .where(and(eq(staffPasskeys.id, response.id), eq(staffPasskeys.staffId, staffId)));
  if (!key) return null;
  const rp = relyingParty();
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: key.id, publicKey: new Uint8Array(key.publicKey), counter: key.counter, transports: key.transports },
      requireUserVerification: false,
    });
    return result.verified ? { method: "passkey", id: key.id, counter: result.authenticationInfo.newCounter } : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Admin: a member who lost every factor
// ---------------------------------------------------------------------------------------------

/** Removes a member's TOTP, passkeys and recovery codes and ends their sessions (they enrol again). */
export async function resetStaffSecondFactors(db: Database, actor: Actor, id: string, meta: RequestMeta): Promise<void> {
  assertStaffCan(actor, "staff:manage");
  if (!isUuid(id)) throw new DomainError("not_found", "No such staff member.");
  await db.transaction(async (tx) => {
    const [row] = await tx.select().from(staff).where(eq(staff.id, id)).for("update");
    if (!row) throw new DomainError("not_found", "No such staff member.");
    await tx
      .update(staff)
      .set({ totpSecretEncrypted: null, totpLastStep: null, totpEnabledAt: null, sessionVersion: row.sessionVersion + 1, updatedAt: new Date() })
      .where(eq(staff.id, row.id));
    await tx.delete(staffPasskeys).where(eq(staffPasskeys.staffId, row.id));
    await tx.delete(staffRecoveryCodes).where(eq(staffRecoveryCodes.staffId, row.id));
    await tx.delete(staffChallenges).where(eq(staffChallenges.staffId, row.id));
    await recordAudit(tx, { actor, action: "staff.second_factor_removed", target: staffTarget(row.id), details: { email: row.email, method: "all" } }, meta);
  });
}

/** Expired challenges, for the janitor. */
export async function sweepStaffChallenges(db: Executor, now = new Date()): Promise<number> {
  const rows = await db
    .delete(staffChallenges)
    .where(or(lt(staffChallenges.expiresAt, now), isNotNull(staffChallenges.usedAt)))
    .returning({ id: staffChallenges.id });
  return rows.length;
}
