/**
 * Users (Junction-style): created by a Team API key in the key's environment and region, looked up
 * by API keys, their own SDK access token or staff, disabled/enabled and deleted by keys or staff.
 *
 * Audit events about a user either target it (`target: user/<id>`) or, when they target one of its
 * SDK sessions or sign-in tokens, carry `details.userId`, so a timeline can find them all.
 */
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { sdkSessions, signInTokens, type User, users } from "@/db/schema";
import { assertKeyScope } from "@/lib/api-keys/scopes";
import { recordAudit, recordAudits } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { ENVIRONMENTS, type Environment } from "@/lib/environments";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { isRegion } from "@/lib/settings/regions";
import { assertStaffCan } from "@/lib/staff/authorize";
import { requireReason } from "@/lib/staff/reason";
import { sessionRevokedData, userRef } from "@/lib/webhooks/events";
import { loadUserFor, userNotFound } from "./access";
import { type SessionView, toSessionView, toUserView, type UserView } from "./types";

export { type UserActivity, usersActivity } from "./activity";
export { countUsers, DEFAULT_LIST_LIMIT, listUsers, MAX_LIST_LIMIT, TOTAL_EXACT_UP_TO, type UserCount, type UserList } from "./list";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type SearchUsersInput, searchUsers, type UserPage } from "./search";
export * from "./types";

export const createUserInput = z.object({
  client_user_id: z
    .string("must be a string")
    .trim()
    .min(1, "is required")
    .max(256, "must be at most 256 characters")
    .refine((s) => !/[\u0000-\u001f]/.test(s), "must not contain control characters"),
  email: z.email("must be an email address").max(320, "must be at most 320 characters").nullish(),
  name: z.string("must be a string").trim().max(200, "must be at most 200 characters").nullish(),
});
export type CreateUserInput = z.input<typeof createUserInput>;

/**
 * An API key creates users in its own environment and region. The system actor (seed, CLI) and
 * staff with `users:write` (support and admins; qa in sandbox only) name them: the console's
 * "Create user" runs this same function, so its audit event and `user.created` webhook are the API's.
 */
export async function createUser(
  db: Database,
  actor: Actor,
  input: CreateUserInput & { environment?: Environment; region?: string },
  meta: RequestMeta,
): Promise<UserView> {
  let environment: Environment;
  let region: string;
  let createdByKeyId: string | null = null;
  if (actor.type === "api_key") {
    assertKeyScope(actor, "users:write");
    environment = actor.environment as Environment;
    region = actor.region;
    createdByKeyId = actor.id;
  } else {
    if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
    if (!input.environment || !(ENVIRONMENTS as readonly string[]).includes(input.environment)) {
      throw new DomainError("validation_failed", "environment must be sandbox or production.", { field: "environment" });
    }
    assertStaffCan(actor, "users:write", input.environment);
    if (!isRegion(input.region)) throw new DomainError("validation_failed", "region is not one this deployment serves.", { field: "region" });
    environment = input.environment;
    region = input.region;
  }
  const parsed = { data: parseInput(createUserInput, input) };
  const data = parsed.data;

  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({
        id: newId(),
        environment,
        region,
        clientUserId: data.client_user_id,
        email: data.email ?? null,
        name: data.name || null,
        createdByKeyId,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) {
      const [existing] = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.environment, environment), eq(users.region, region), eq(users.clientUserId, data.client_user_id), isNull(users.deletedAt)));
      throw new DomainError("client_user_id_taken", "A user with this client_user_id already exists.", {
        user_id: existing?.id ?? null,
        field: "client_user_id",
      });
    }
    await recordAudit(
      tx,
      {
        actor,
        action: "user.created",
        target: { type: "user", id: row.id },
        environment,
        details: { clientUserId: row.clientUserId, region },
        webhook: { type: "user.created", data: { ...userRef(row), created_on: row.createdAt.toISOString(), initiated_by: actor.type } },
      },
      meta,
    );
    return toUserView(row);
  });
}

/**
 * A console form's email field: empty (no email) or an address. One refinement rather than a union,
 * so a bad address reads "Email must be an email address." and not a union's "Invalid input".
 */
export const optionalEmailField = z
  .string("must be a string")
  .trim()
  .max(320, "must be at most 320 characters")
  .refine((v) => v === "" || z.email().safeParse(v).success, "must be an email address");

export const updateUserInput = z.object({
  email: createUserInput.shape.email,
  name: createUserInput.shape.name,
});
/** Absent: unchanged; null or "": cleared. */
export type UpdateUserInput = { email?: string | null; name?: string | null };

/**
 * Staff (`users:write` on the user's environment, with a reason) change a user's name and email:
 * an empty value clears it, an absent one leaves it. Audited as `user.updated` with what changed
 * (before and after); nothing changes, nothing is audited. A deleted user cannot be edited.
 */
export async function updateUser(
  db: Database,
  actor: Actor,
  userId: string,
  input: UpdateUserInput & { reason?: string | null },
  meta: RequestMeta,
): Promise<UserView> {
  if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  const reason = requireReason(input.reason, "changing the user", { optional: actor.type !== "staff" });
  const blank = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === "" ? null : v);
  const data = parseInput(updateUserInput, { email: blank(input.email), name: blank(input.name) });
  return db.transaction(async (tx) => {
    const user = await loadUserFor(tx, actor, userId, { permission: "users:write", scope: "users:write", forUpdate: true });
    const next = {
      name: data.name === undefined ? user.name : data.name || null,
      email: data.email === undefined ? user.email : (data.email ?? null),
    };
    const changed = (["name", "email"] as const).filter((k) => next[k] !== user[k]);
    if (!changed.length) return toUserView(user);
    const [row] = await tx.update(users).set(next).where(eq(users.id, user.id)).returning();
    const details: Record<string, unknown> = { clientUserId: user.clientUserId, changed: changed.join(", ") };
    if (changed.includes("name")) Object.assign(details, { previousName: user.name, name: next.name });
    if (changed.includes("email")) Object.assign(details, { previousEmail: user.email, email: next.email });
    await recordAudit(tx, { actor, action: "user.updated", target: { type: "user", id: user.id }, environment: user.environment, reason, details }, meta);
    return toUserView(row!);
  });
}

/** API key (users:read), the user's own access token, or staff (users:read; deleted users too). */
/**
 * `alreadyRead`: the row the caller's authentication has just read (a bearer check joins the
 * user), used when it is the user asked for, to save the round trip.
 */
export async function getUser(db: Executor, actor: Actor, userId: string, alreadyRead?: User | null): Promise<UserView> {
  if (alreadyRead && actor.type === "user" && actor.id === userId && alreadyRead.id === userId) return toUserView(alreadyRead);
  return toUserView(await loadUserFor(db, actor, userId, { permission: "users:read", scope: "users:read", allowDeleted: true }));
}

export async function resolveByClientUserId(db: Executor, actor: Actor, clientUserId: string): Promise<UserView> {
  if (actor.type !== "api_key") throw new DomainError("forbidden", "Resolving a client user id needs an API key.");
  assertKeyScope(actor, "users:read");
  const [row] = await db
    .select()
    .from(users)
    .where(
      and(
        eq(users.environment, actor.environment as Environment),
        eq(users.region, actor.region),
        eq(users.clientUserId, clientUserId),
        isNull(users.deletedAt),
      ),
    );
  if (!row) throw userNotFound();
  return toUserView(row);
}

/** Ends every live SDK session of a user (same transaction as the change that calls for it). */
async function endSessions(tx: Executor, userId: string, reason: string): Promise<number> {
  const ended = await tx
    .update(sdkSessions)
    .set({ revokedAt: new Date(), revokeReason: reason })
    .where(and(eq(sdkSessions.userId, userId), isNull(sdkSessions.revokedAt)))
    .returning({ id: sdkSessions.id });
  return ended.length;
}

/**
 * Disabling ends every SDK session at once (refresh then answers `invalid_grant` / `user_disabled`,
 * and the bearer check refuses live JWTs because it reads the user); unredeemed sign-in tokens stop
 * working because redemption checks the user. Enabling does not bring old sessions back.
 */
export async function setUserDisabled(
  db: Database,
  actor: Actor,
  userId: string,
  disabled: boolean,
  opts: { reason?: string | null },
  meta: RequestMeta,
): Promise<UserView> {
  const reason = requireReason(opts.reason, disabled ? "disabling the user" : "enabling the user", { optional: actor.type !== "staff" });
  return db.transaction(async (tx) => {
    const user = await loadUserFor(tx, actor, userId, { permission: "users:disable", scope: "users:write", forUpdate: true });
    if (Boolean(user.disabledAt) === disabled) return toUserView(user); // nothing changes, nothing to audit
    const now = new Date();
    const [row] = await tx
      .update(users)
      .set({ disabledAt: disabled ? now : null })
      .where(eq(users.id, user.id))
      .returning();
    const sessionsEnded = disabled ? await endSessions(tx, user.id, "user_disabled") : 0;
    await recordAudit(
      tx,
      {
        actor,
        action: disabled ? "user.disabled" : "user.enabled",
        target: { type: "user", id: user.id },
        environment: user.environment,
        reason,
        details: disabled ? { clientUserId: user.clientUserId, sessionsEnded } : { clientUserId: user.clientUserId },
        occurredAt: now,
        webhook: disabled
          ? { type: "user.disabled", data: { ...userRef(user), sessions_ended: sessionsEnded, initiated_by: actor.type } }
          : { type: "user.enabled", data: { ...userRef(user), initiated_by: actor.type } },
      },
      meta,
    );
    return toUserView(row!);
  });
}

/**
 * Soft delete: the row stays (audit targets keep their meaning) but the user is gone for every
 * API, its client_user_id is free again, and its SDK sessions end with reason `user_deleted`.
 */
export async function deleteUser(db: Database, actor: Actor, userId: string, opts: { reason?: string | null }, meta: RequestMeta): Promise<void> {
  const reason = requireReason(opts.reason, "deleting the user", { optional: actor.type !== "staff" });
  await db.transaction(async (tx) => {
    const user = await loadUserFor(tx, actor, userId, { permission: "users:delete", scope: "users:write", forUpdate: true });
    const now = new Date();
    await tx.update(users).set({ deletedAt: now }).where(eq(users.id, user.id));
    const sessionsEnded = await endSessions(tx, user.id, "user_deleted");
    await recordAudit(
      tx,
      {
        actor,
        action: "user.deleted",
        target: { type: "user", id: user.id },
        environment: user.environment,
        reason,
        details: { clientUserId: user.clientUserId, sessionsEnded },
        occurredAt: now,
        webhook: { type: "user.deleted", data: { ...userRef(user), sessions_ended: sessionsEnded, initiated_by: actor.type } },
      },
      meta,
    );
  });
}

/** The user's SDK sessions, newest first (at most `limit`, default 100). */
export async function listUserSessions(db: Executor, actor: Actor, userId: string, opts: { limit?: number; now?: Date } = {}): Promise<SessionView[]> {
  const user = await loadUserFor(db, actor, userId, { permission: "users:read", scope: "users:read", allowDeleted: true });
  const rows = await db
    .select()
    .from(sdkSessions)
    .where(eq(sdkSessions.userId, user.id))
    .orderBy(desc(sdkSessions.createdAt), desc(sdkSessions.id))
    .limit(Math.max(1, Math.min(500, opts.limit ?? 100)));
  return rows.map((s) => toSessionView(s, opts.now));
}

/** Staff (users:revoke_sessions, with a reason) end one SDK session; its refresh tokens die with it. */
export async function revokeSession(db: Database, actor: Actor, sessionId: string, opts: { reason?: string | null }, meta: RequestMeta): Promise<SessionView> {
  const reason = requireReason(opts.reason, "revoking the session", { optional: actor.type !== "staff" });
  if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  if (!isUuid(sessionId)) throw new DomainError("session_not_found", "No such SDK session.");
  return db.transaction(async (tx) => {
    const [session] = await tx.select().from(sdkSessions).where(eq(sdkSessions.id, sessionId)).for("update");
    if (!session) throw new DomainError("session_not_found", "No such SDK session.");
    assertStaffCan(actor, "users:revoke_sessions", session.environment);
    if (session.revokedAt) return toSessionView(session);
    const [row] = await tx
      .update(sdkSessions)
      .set({ revokedAt: new Date(), revokeReason: "revoked_by_staff" })
      .where(eq(sdkSessions.id, session.id))
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: "sdk_session.revoked",
        target: { type: "sdk_session", id: session.id },
        environment: session.environment,
        reason,
        details: { userId: session.userId, installationId: session.installationId },
        occurredAt: row!.revokedAt!,
        webhook: { type: "sdk_session.revoked", data: sessionRevokedData(row!, "revoked_by_staff", actor) },
      },
      meta,
    );
    return toSessionView(row!);
  });
}

/** Staff end every live SDK session of a user; one audit event per session ended. */
export async function revokeAllSessions(
  db: Database,
  actor: Actor,
  userId: string,
  opts: { reason?: string | null },
  meta: RequestMeta,
): Promise<{ revoked: number }> {
  const reason = requireReason(opts.reason, "revoking the sessions", { optional: actor.type !== "staff" });
  if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  return db.transaction(async (tx) => {
    const user = await loadUserFor(tx, actor, userId, { permission: "users:revoke_sessions", scope: "users:write", forUpdate: true });
    const ended = await tx
      .update(sdkSessions)
      .set({ revokedAt: new Date(), revokeReason: "revoked_by_staff" })
      .where(and(eq(sdkSessions.userId, user.id), isNull(sdkSessions.revokedAt)))
      .returning();
    await recordAudits(
      tx,
      ended.map((s) => ({
        actor,
        action: "sdk_session.revoked" as const,
        target: { type: "sdk_session", id: s.id },
        environment: s.environment,
        reason,
        details: { userId: user.id, installationId: s.installationId, all: true },
        occurredAt: s.revokedAt!,
        webhook: { type: "sdk_session.revoked" as const, data: sessionRevokedData(s, "revoked_by_staff", actor) },
      })),
      meta,
    );
    return { revoked: ended.length };
  });
}

/** Sign-in tokens of a user for the console (never their secrets), newest first. */
export async function listUserSignInTokens(db: Executor, actor: Actor, userId: string, opts: { limit?: number; now?: Date } = {}) {
  const user = await loadUserFor(db, actor, userId, { permission: "users:read", scope: "users:read", allowDeleted: true });
  const now = opts.now ?? new Date();
  const rows = await db
    .select({
      id: signInTokens.id,
      expiresAt: signInTokens.expiresAt,
      usedAt: signInTokens.usedAt,
      sessionId: signInTokens.sessionId,
      issuedByType: signInTokens.issuedByType,
      issuedById: signInTokens.issuedById,
      reason: signInTokens.reason,
      createdAt: signInTokens.createdAt,
    })
    .from(signInTokens)
    .where(eq(signInTokens.userId, user.id))
    .orderBy(desc(signInTokens.createdAt))
    .limit(Math.max(1, Math.min(200, opts.limit ?? 50)));
  return rows.map((r) => ({
    ...r,
    redeemedAt: r.usedAt,
    state: r.usedAt ? ("redeemed" as const) : r.expiresAt.getTime() <= now.getTime() ? ("expired" as const) : ("pending" as const),
  }));
}
