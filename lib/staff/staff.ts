/**
 * Staff members: creation, role changes, disabling, password resets, password and SSO sign-in.
 * Each change is audited in the same transaction; password sign-in attempts are counted before the
 * password is checked, per account and client address, per account and per address, in buckets in
 * the database (lib/rate-limit), so the limits hold across instances.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { type Staff, staff } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { OidcConfig } from "@/lib/config/env";
import type { Actor, RequestMeta } from "@/lib/context";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { admit, clientAddressOf, type Limit, refund, resetLimit, resetLimitsWithPrefix, sampleFailure } from "@/lib/rate-limit";
import { assertStaffCan } from "./authorize";
import { hashPassword, MIN_PASSWORD_LENGTH, verifyDummyPassword, verifyPassword } from "./passwords";
import { STAFF_ROLES, type StaffRole } from "./rbac";
import { requireReason } from "./reason";
import { type SecondStepRequired, startSecondStep } from "./second-factor";
import { describeSignInError, rateLimitedCode, rateLimitedSentence } from "./sign-in-errors";

const email = z.string().trim().toLowerCase().email("must be an email address").max(254, "must be at most 254 characters").meta({ title: "Email" });
const password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, "must be at most 1024 characters")
  .meta({ title: "Password" });
const name = z.string().trim().min(1, "is required").max(120, "must be at most 120 characters").meta({ title: "Name" });
const staffRole = z.enum(STAFF_ROLES, `must be one of ${STAFF_ROLES.join(", ")}`).meta({ title: "Role" });

export const createStaffInput = z.object({
  email,
  name: name.optional(),
  role: staffRole,
  password: password.optional(),
});
export type CreateStaffInput = z.input<typeof createStaffInput>;

/** What pages and actions may show of a staff member: never the password hash. */
export interface StaffView {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  disabled: boolean;
  sso: boolean;
  hasPassword: boolean;
  /** One of the demo team's accounts (public password). */
  demo: boolean;
  lastSignInAt: Date | null;
  createdAt: Date;
}

export function toStaffView(s: Staff): StaffView {
  return {
    id: s.id,
    email: s.email,
    name: s.name,
    role: s.role,
    disabled: s.disabledAt !== null,
    sso: s.oidcSubject !== null,
    hasPassword: s.passwordHash !== null,
    demo: s.demo,
    lastSignInAt: s.lastSignInAt,
    createdAt: s.createdAt,
  };
}

const staffTarget = (s: Pick<Staff, "id">) => ({ type: "staff", id: s.id });

export async function createStaff(db: Database, actor: Actor, input: CreateStaffInput, meta: RequestMeta): Promise<StaffView> {
  assertStaffCan(actor, "staff:manage");
  const data = parseInput(createStaffInput, input);
  const passwordHash = data.password ? await hashPassword(data.password) : null;
  return db.transaction(async (tx) => {
    const [existing] = await tx.select({ id: staff.id }).from(staff).where(eq(staff.email, data.email));
    if (existing) throw new DomainError("email_taken", `A staff member with the email ${data.email} already exists.`, { field: "email" });
    const [row] = await tx
      .insert(staff)
      .values({ id: newId(), email: data.email, name: data.name ?? data.email.split("@")[0]!, role: data.role, passwordHash })
      .returning();
    await recordAudit(tx, { actor, action: "staff.created", target: staffTarget(row!), details: { email: row!.email, role: row!.role } }, meta);
    return toStaffView(row!);
  });
}

export async function listStaff(db: Executor, actor: Actor): Promise<StaffView[]> {
  assertStaffCan(actor, "staff:manage");
  const rows = await db.select().from(staff).orderBy(asc(staff.email));
  return rows.map(toStaffView);
}

async function lockStaff(tx: Executor, id: string): Promise<Staff> {
  if (!isUuid(id)) throw new DomainError("not_found", "No such staff member.");
  const [row] = await tx.select().from(staff).where(eq(staff.id, id)).for("update");
  if (!row) throw new DomainError("not_found", "No such staff member.");
  return row;
}

/** Serialises the changes that remove an active admin, across every instance. */
const ADMIN_SET_LOCK = 7_404_117_011;

/**
 * Refuses changes that would leave the deployment with no active admin. The count runs under a
 * transaction lock: without it two admins demoting each other at once would each count the other
 * and both succeed, leaving none. Taken after the target row's lock; a holder only counts and
 * updates its own, already locked, row, so no lock cycle can form.
 */
async function assertAnotherActiveAdmin(tx: Executor, exceptId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${ADMIN_SET_LOCK})`);
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(staff)
    .where(sql`${staff.role} = 'admin' and ${staff.disabledAt} is null and ${staff.id} <> ${exceptId}`);
  if (!row || Number(row.n) === 0) throw new DomainError("last_admin", "This is the last active admin; make someone else an admin first.");
}

export async function changeStaffRole(db: Database, actor: Actor, id: string, role: StaffRole, meta: RequestMeta): Promise<StaffView> {
  assertStaffCan(actor, "staff:manage");
  const newRole = parseInput(z.object({ role: staffRole }), { role }).role;
  return db.transaction(async (tx) => {
    const row = await lockStaff(tx, id);
    if (row.role === newRole) return toStaffView(row);
    if (row.role === "admin") await assertAnotherActiveAdmin(tx, row.id);
    const [updated] = await tx
      .update(staff)
      .set({ role: newRole, sessionVersion: row.sessionVersion + 1, updatedAt: new Date() })
      .where(eq(staff.id, row.id))
      .returning();
    await recordAudit(tx, { actor, action: "staff.role_changed", target: staffTarget(row), details: { email: row.email, from: row.role, to: newRole } }, meta);
    return toStaffView(updated!);
  });
}

/**
 * Disables (signing the member out everywhere) or enables a member. Staff give a reason, like for
 * every other console action (it goes to the audit log); the CLI's system actor may omit it.
 */
export async function setStaffDisabled(
  db: Database,
  actor: Actor,
  id: string,
  disabled: boolean,
  opts: { reason?: string | null },
  meta: RequestMeta,
): Promise<StaffView> {
  assertStaffCan(actor, "staff:manage");
  const reason = requireReason(opts.reason, disabled ? "disabling a staff member" : "enabling a staff member", { optional: actor.type !== "staff" });
  return db.transaction(async (tx) => {
    const row = await lockStaff(tx, id);
    if ((row.disabledAt !== null) === disabled) return toStaffView(row);
    if (disabled && actor.type === "staff" && actor.id === row.id) throw new DomainError("self_disable", "You cannot disable yourself.");
    if (disabled && row.role === "admin") await assertAnotherActiveAdmin(tx, row.id);
    const [updated] = await tx
      .update(staff)
      .set({ disabledAt: disabled ? new Date() : null, sessionVersion: row.sessionVersion + 1, updatedAt: new Date() })
      .where(eq(staff.id, row.id))
      .returning();
    await recordAudit(
      tx,
      { actor, action: disabled ? "staff.disabled" : "staff.enabled", target: staffTarget(row), reason, details: { email: row.email } },
      meta,
    );
    return toStaffView(updated!);
  });
}

export async function resetStaffPassword(db: Database, actor: Actor, id: string, newPassword: string, meta: RequestMeta): Promise<StaffView> {
  assertStaffCan(actor, "staff:manage");
  const pw = parseInput(z.object({ password }), { password: newPassword }).password;
  const passwordHash = await hashPassword(pw);
  return db.transaction(async (tx) => {
    const row = await lockStaff(tx, id);
    const [updated] = await tx
      .update(staff)
      .set({ passwordHash, sessionVersion: row.sessionVersion + 1, updatedAt: new Date() })
      .where(eq(staff.id, row.id))
      .returning();
    await recordAudit(tx, { actor, action: "staff.password_reset", target: staffTarget(row), details: { email: row.email } }, meta);
    for (const prefix of accountLimitPrefixes(row.id)) await resetLimitsWithPrefix(tx, prefix);
    return toStaffView(updated!);
  });
}

/** A refusal says why (`reason`), in words (`message`) and as a code the sign-in page knows (sign-in-errors.ts). */
export type SignInOutcome =
  | { ok: true; staff: Staff }
  | { ok: false; reason: "invalid" | "disabled"; code: string; message: string }
  | { ok: false; reason: "rate_limited"; code: string; message: string; retryAfterSeconds: number };
/** A password sign-in may also end in a second step (SSO never does). */
export type SignInResult = SignInOutcome | SecondStepRequired;

function refusal(reason: "invalid" | "disabled", code: string): SignInOutcome {
  return { ok: false, reason, code, message: describeSignInError(code)! };
}

/**
 * Before a password is checked, the attempt is counted — atomically, in the same statement that
 * refuses it when a bucket is full — in three buckets (Auth0's per-(user, IP) brute-force
 * protection plus Keycloak's growing waits, instead of a lock anyone could trigger):
 * - per account and client address: 5 attempts, then 30 s, 1 min, 2 min... up to 15 min between
 *   attempts, forgotten after 15 quiet minutes. Someone guessing from one network slows to a crawl
 *   while the member, from their own network, is not affected;
 * - per account from anywhere (needs no address): 20 attempts, then waits doubling up to 5 min, so
 *   many networks together cannot guess fast either, and still cannot lock the member out;
 * - per client address across accounts: 30 attempts, then waits doubling up to 15 min (one
 *   password sprayed over many accounts).
 * A sign-in that succeeds gives its attempt back (an office signing in is not guessing). Without a
 * client address (no trusted proxy and no front), all clients share the per-account bucket.
 */
export const PAIR_SIGN_IN_LIMIT: Limit = { max: 5, windowSeconds: 15 * 60, backoff: { baseSeconds: 30, maxSeconds: 15 * 60 } };
export const ACCOUNT_SIGN_IN_LIMIT: Limit = { max: 20, windowSeconds: 15 * 60, backoff: { baseSeconds: 15, maxSeconds: 5 * 60 } };
export const IP_SIGN_IN_LIMIT: Limit = { max: 30, windowSeconds: 15 * 60, backoff: { baseSeconds: 60, maxSeconds: 15 * 60 } };

const signInKeys = (staffId: string | null, address: string | null) => ({
  pair: staffId ? `staff-sign-in:pair:${staffId}:${address ?? "no-address"}` : null,
  account: staffId ? `staff-sign-in:account:${staffId}` : null,
  ip: address ? `staff-sign-in:ip:${address}` : null,
});

/** Every bucket of one account (after a password reset, the member starts afresh). */
const accountLimitPrefixes = (staffId: string) => [`staff-sign-in:pair:${staffId}:`, `staff-sign-in:account:${staffId}`];

/**
 * What the audit log may name of a sign-in's email field: a staff member's email, or anything that
 * is shaped like an email. Anything else may be a password typed into the wrong box, and is never
 * stored: the event says that it was not an email.
 */
function attemptedIdentifier(typed: string, row: Staff | undefined): { actorName: string | null; details: Record<string, unknown> } {
  if (row) return { actorName: row.email, details: { email: row.email } };
  if (z.email().safeParse(typed).success && typed.length <= 254) return { actorName: typed, details: { email: typed } };
  return { actorName: null, details: { email: null, identifier: "not_an_email" } };
}

/** Thrown inside the counting transaction to roll it back. */
class Refused extends Error {
  constructor(
    readonly which: "pair" | "account" | "ip",
    readonly retryAfterSeconds: number,
  ) {
    super("refused by a sign-in limit");
  }
}

/**
 * Password sign-in. The attempt is counted (see the limits above) before the password is checked:
 * of any number of concurrent attempts, only as many are checked as the buckets have room for.
 */
export async function signInWithPassword(
  db: Database,
  credentials: { email: unknown; password: unknown },
  meta: RequestMeta,
  now = new Date(),
): Promise<SignInResult> {
  const parsed = z.object({ email: z.string().trim().toLowerCase().max(254), password: z.string().max(1024) }).safeParse(credentials);
  if (!parsed.success || !parsed.data.email || !parsed.data.password) {
    return refusal("invalid", "MissingCredentials");
  }
  const { email: typed, password: pw } = parsed.data;
  const address = clientAddressOf(meta);
  const [row] = await db.select().from(staff).where(eq(staff.email, typed));
  const keys = signInKeys(row?.id ?? null, address);
  const who = attemptedIdentifier(typed, row);
  const anonymous: Actor = { type: "anonymous", id: null, name: who.actorName };

  // Count first, in one transaction: a refusal by any bucket rolls back the others' counts.
  const buckets: Array<[Refused["which"], string | null, Limit]> = [
    ["pair", keys.pair, PAIR_SIGN_IN_LIMIT],
    ["account", keys.account, ACCOUNT_SIGN_IN_LIMIT],
    ["ip", keys.ip, IP_SIGN_IN_LIMIT],
  ];
  const counted = await db
    .transaction(async (tx) => {
      let blockedFor = 0;
      for (const [which, key, limit] of buckets) {
        if (!key) continue;
        const admission = await admit(tx, key, limit, now);
        if (!admission.admitted) throw new Refused(which, admission.retryAfterSeconds);
        if (admission.blockedNow) blockedFor = Math.max(blockedFor, admission.retryAfterSeconds);
      }
      return { blockedFor };
    })
    .catch((err: unknown) => {
      if (err instanceof Refused) return { refusal: err };
      throw err;
    });

  if ("refusal" in counted) {
    const { which, retryAfterSeconds } = counted.refusal;
    // Refusals cost no password check and can come fast: one event per account (or address) and
    // window says the limit is in force, not one per refused attempt.
    const sample = await sampleFailure(db, `staff-sign-in-refused:${row?.id ?? "unknown-account"}`, address, now);
    if (sample.record) {
      await recordAudit(
        db,
        {
          actor: anonymous,
          action: "staff.sign_in_failed",
          target: row ? staffTarget(row) : null,
          outcome: "denied",
          occurredAt: now,
          details: { ...who.details, reason: "rate_limited", limit: which, retryAfterSeconds },
        },
        meta,
      );
    }
    const scope = which === "pair" && !address ? "shared" : which;
    return {
      ok: false,
      reason: "rate_limited",
      code: rateLimitedCode(scope, retryAfterSeconds),
      message: rateLimitedSentence(scope, retryAfterSeconds),
      retryAfterSeconds,
    };
  }

  const ok = row?.passwordHash ? await verifyPassword(row.passwordHash, pw) : await verifyDummyPassword(pw);
  if (!row || !ok || row.disabledAt) {
    const reason = row && ok ? "disabled" : "invalid";
    // An unknown email names nothing that exists: its failures are written one per address and
    // window (its attempts are still counted, by address). A member's failures are bounded by the
    // buckets above and each is written.
    const sample = row ? { record: true, count: 1 } : await sampleFailure(db, "staff-sign-in-unknown", address, now);
    if (sample.record) {
      await recordAudit(
        db,
        {
          actor: anonymous,
          action: "staff.sign_in_failed",
          target: row ? staffTarget(row) : null,
          outcome: "failure",
          occurredAt: now,
          details: {
            ...who.details,
            reason,
            ...(counted.blockedFor ? { blockedForSeconds: counted.blockedFor } : {}),
            ...(row ? {} : { unknownAccountFailuresFromAddress: sample.count }),
          },
        },
        meta,
      );
    }
    return reason === "disabled" ? refusal("disabled", "AccountDisabled") : refusal("invalid", "CredentialsSignin");
  }

  // The password was right: this address's attempts at the account start afresh and the shared
  // buckets get this attempt back (the second step has its own limit).
  const forgive = async (tx: Executor) => {
    if (keys.pair) await resetLimit(tx, keys.pair);
    if (keys.account) await refund(tx, keys.account, now);
    if (keys.ip) await refund(tx, keys.ip, now);
  };
  // A member with a second factor (or who must enrol one) gets a ticket for the second step
  // instead of a session, and "signed in" is audited once that step passes.
  const secondStep = await startSecondStep(db, row, now);
  if (secondStep) {
    await forgive(db);
    return secondStep;
  }

  await db.transaction(async (tx) => {
    await tx.update(staff).set({ lastSignInAt: now }).where(eq(staff.id, row.id));
    await forgive(tx);
    await recordAudit(
      tx,
      {
        actor: { type: "staff", id: row.id, name: row.email, role: row.role },
        action: "staff.signed_in",
        target: staffTarget(row),
        occurredAt: now,
        details: { method: "password" },
      },
      meta,
    );
  });
  return { ok: true, staff: row };
}

/** Maps an SSO user's claims to a tokendesk role, or null when the deployment gives them none. */
export function roleFromClaims(claims: Record<string, unknown>, oidc: OidcConfig): StaffRole | null {
  const raw = claims[oidc.roleClaim];
  const values = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(/[\s,]+/) : [];
  for (const { value, role } of oidc.roleMap) if (values.includes(value)) return role;
  return oidc.defaultRole;
}

/**
 * SSO sign-in: finds the staff member by OIDC subject (or links one by email), creates them on
 * first sign-in, and keeps their role in step with the identity provider's claims.
 */
export async function signInWithOidc(
  db: Database,
  profile: { sub: string; email?: string | null; name?: string | null; claims: Record<string, unknown> },
  oidc: OidcConfig,
  meta: RequestMeta,
): Promise<SignInOutcome> {
  const role = roleFromClaims(profile.claims, oidc);
  const address = profile.email?.trim().toLowerCase() || null;
  const anonymous: Actor = { type: "anonymous", id: null, name: address ?? profile.sub };
  if (!role || !address) {
    await recordAudit(
      db,
      {
        actor: anonymous,
        action: "staff.sign_in_failed",
        outcome: "denied",
        details: { method: "oidc", subject: profile.sub, reason: role ? "no_email" : "no_role" },
      },
      meta,
    );
    return refusal("invalid", role ? "OidcNoEmail" : "OidcNoRole");
  }
  return db.transaction(async (tx) => {
    let [row] = await tx.select().from(staff).where(eq(staff.oidcSubject, profile.sub)).for("update");
    row ??= (await tx.select().from(staff).where(eq(staff.email, address)).for("update"))[0];
    const system: Actor = { type: "system", id: "oidc", name: `SSO (${oidc.displayName})` };
    if (!row) {
      [row] = await tx
        .insert(staff)
        .values({ id: newId(), email: address, name: profile.name?.trim() || address.split("@")[0]!, role, oidcSubject: profile.sub })
        .returning();
      await recordAudit(tx, { actor: system, action: "staff.created", target: staffTarget(row!), details: { email: address, role, method: "oidc" } }, meta);
    } else {
      if (row.disabledAt) {
        await recordAudit(
          tx,
          { actor: anonymous, action: "staff.sign_in_failed", target: staffTarget(row), outcome: "denied", details: { method: "oidc", reason: "disabled" } },
          meta,
        );
        return refusal("disabled", "AccountDisabled");
      }
      if (row.role !== role) {
        await recordAudit(
          tx,
          { actor: system, action: "staff.role_changed", target: staffTarget(row), details: { email: row.email, from: row.role, to: role, method: "oidc" } },
          meta,
        );
      }
      [row] = await tx
        .update(staff)
        .set({ oidcSubject: profile.sub, role, sessionVersion: row.role !== role ? row.sessionVersion + 1 : row.sessionVersion, updatedAt: new Date() })
        .where(eq(staff.id, row.id))
        .returning();
    }
    await tx.update(staff).set({ lastSignInAt: new Date() }).where(eq(staff.id, row!.id));
    await recordAudit(
      tx,
      {
        actor: { type: "staff", id: row!.id, name: row!.email, role: row!.role },
        action: "staff.signed_in",
        target: staffTarget(row!),
        details: { method: "oidc" },
      },
      meta,
    );
    return { ok: true as const, staff: row! };
  });
}

/** The staff member behind a console session, or null if they were disabled or their session is stale. */
export async function activeStaff(db: Executor, id: string, sessionVersion: number): Promise<Staff | null> {
  if (!isUuid(id)) return null;
  const [row] = await db.select().from(staff).where(eq(staff.id, id));
  if (!row || row.disabledAt || row.sessionVersion !== sessionVersion) return null;
  return row;
}

export async function findStaffByOidcSubject(db: Executor, subject: string): Promise<Staff | null> {
  const [row] = await db.select().from(staff).where(eq(staff.oidcSubject, subject));
  return row ?? null;
}

/**
 * Signing out ends the session for good: the cookie is a signed JWT that stays valid until it
 * expires wherever a copy of it is kept, so the member's session version moves on and every cookie
 * minted before — this one and the member's other browsers' — is refused from the next request.
 */
export async function signOutStaff(db: Database, s: Staff, meta: RequestMeta): Promise<void> {
  await db.transaction(async (tx) => {
    const bumped = await tx
      .update(staff)
      .set({ sessionVersion: sql`${staff.sessionVersion} + 1`, updatedAt: new Date() })
      .where(and(eq(staff.id, s.id), eq(staff.sessionVersion, s.sessionVersion)))
      .returning({ id: staff.id });
    // A second sign-out with the same (now stale) cookie has nothing left to end.
    if (bumped.length === 0) return;
    await recordAudit(tx, { actor: { type: "staff", id: s.id, name: s.email, role: s.role }, action: "staff.signed_out", target: staffTarget(s) }, meta);
  });
}
