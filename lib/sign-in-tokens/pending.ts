/**
 * A user's outstanding sign-in tokens, and taking one back before it is used (issue 14, point 5):
 * a lost one-day token need not stay valid. Staff (with a reason) and Team API keys
 * (`GET /v2/user/{id}/sign_in_tokens`, `DELETE /v2/user/{id}/sign_in_tokens/{token_id}`) go through
 * the same two functions. Never the secret: only its hash is stored anyway.
 *
 * Revocation is one atomic UPDATE guarded by `used_at IS NULL`, and redemption
 * (`redeemSignInToken`) one guarded by `revoked_at IS NULL`: whichever takes the row lock first
 * wins, the other re-checks its predicate after the winner commits and finds no row.
 */
import { sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { queryRows } from "@/db/client";
import { actorNames } from "@/lib/audit/names";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { requireReason } from "@/lib/staff/reason";
import { loadUserFor } from "@/lib/users/access";

/** At most this many pending tokens are listed (a user with more is being issued to in a loop). */
export const PENDING_LIST_LIMIT = 100;

export interface PendingSignInToken {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  issuedBy: {
    type: string;
    id: string | null;
    /** The staff member's or key's name; "tokendesk" for the system; null when it no longer exists. */
    name: string | null;
    /** A staff member's email, a key's prefix. */
    detail: string | null;
  };
  reason: string | null;
}

const tokenNotFound = () => new DomainError("sign_in_token_not_found", "No such sign-in token for this user.");

/** The user's tokens that are neither used, revoked nor expired, newest first (the user index). */
export async function listPendingSignInTokens(db: Executor, actor: Actor, userId: string, now = new Date()): Promise<PendingSignInToken[]> {
  const user = await loadUserFor(db, actor, userId, { permission: "users:read", scope: "users:read", allowDeleted: true });
  const rows = await queryRows<{
    id: string;
    created_at: string | Date;
    expires_at: string | Date;
    issued_by_type: string;
    issued_by_id: string | null;
    reason: string | null;
  }>(
    db,
    sql`select id, created_at, expires_at, issued_by_type, issued_by_id, reason from sign_in_tokens
        where user_id = ${user.id}::uuid and used_at is null and revoked_at is null and expires_at > ${now.toISOString()}::timestamptz
        order by created_at desc limit ${PENDING_LIST_LIMIT}`,
  );
  const names = await actorNames(
    db,
    rows.map((r) => ({ type: r.issued_by_type, id: r.issued_by_id })),
  );
  return rows.map((r) => {
    const named = names.get(`${r.issued_by_type}:${r.issued_by_id}`);
    return {
      id: String(r.id),
      createdAt: new Date(r.created_at),
      expiresAt: new Date(r.expires_at),
      issuedBy: {
        type: r.issued_by_type,
        id: r.issued_by_id,
        name: named?.name ?? (r.issued_by_type === "system" ? "tokendesk" : null),
        detail: named?.detail ?? null,
      },
      // Staff see why it was issued; an integrator's key gets the list without staff's words.
      reason: actor.type === "staff" ? r.reason : null,
    };
  });
}

export interface RevokeSignInTokenOptions {
  /** Required for staff. */
  reason?: string | null;
  now?: Date;
}

/**
 * Takes back a token that has not been used: afterwards its exchange answers `invalid_grant`.
 * Revoking one already revoked (or expired and unused) changes nothing and succeeds — the caller's
 * intent holds; one already redeemed is a 409 (revoke the session it started instead).
 */
export async function revokeSignInToken(
  db: Database,
  actor: Actor,
  userId: string,
  tokenId: string,
  opts: RevokeSignInTokenOptions,
  meta: RequestMeta,
): Promise<{ revoked: boolean }> {
  if (actor.type !== "api_key" && actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  const reason = requireReason(opts.reason, "revoking a sign-in token", { optional: actor.type !== "staff" });
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const user = await loadUserFor(tx, actor, userId, { permission: "users:revoke_sessions", scope: "sign_in_tokens:write" });
    if (!isUuid(tokenId)) throw tokenNotFound();
    const [row] = await queryRows<{ id: string; expires_at: string | Date }>(
      tx,
      sql`update sign_in_tokens set revoked_at = ${now.toISOString()}::timestamptz, revoked_by_type = ${actor.type}, revoked_by_id = ${actor.id}
          where id = ${tokenId}::uuid and user_id = ${user.id}::uuid and used_at is null and revoked_at is null
          returning id, expires_at`,
    );
    if (!row) {
      const [current] = await queryRows<{ used_at: string | Date | null; revoked_at: string | Date | null }>(
        tx,
        sql`select used_at, revoked_at from sign_in_tokens where id = ${tokenId}::uuid and user_id = ${user.id}::uuid`,
      );
      if (!current) throw tokenNotFound();
      if (current.used_at) {
        throw new DomainError("conflict", "This sign-in token was already used: revoke the session it started instead.", { field: "token_id" });
      }
      return { revoked: false };
    }
    await recordAudit(
      tx,
      {
        actor,
        action: "sign_in_token.revoked",
        target: { type: "user", id: user.id },
        environment: user.environment,
        reason,
        details: { signInTokenId: row.id, userId: user.id, expiresAt: new Date(row.expires_at).toISOString() },
        occurredAt: now,
      },
      meta,
    );
    return { revoked: true };
  });
}
