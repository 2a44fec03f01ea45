/**
 * Sign-in tokens (Junction-style): short-lived, single-use, bound to one user, environment and
 * region. Issued by a Team API key (`POST /v2/user/{id}/sign_in_token`) or by staff in the console
 * (reason required; qa in sandbox only) through the same function — the console is a broker and the
 * browser never holds an API key. Redeemed by `exchangeSignInToken` (lib/oauth/exchange.ts).
 */
import { eq, type SQL, sql } from "drizzle-orm";
import { commitWith, type Database, type Executor, queryRows } from "@/db/client";
import { type SignInToken, signInTokens } from "@/db/schema";
import { assertKeyScope } from "@/lib/api-keys/scopes";
import { type AuditInput, guardedAuditInsert, recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { type Environment, isEnvironment } from "@/lib/environments";
import { DomainError } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { DEFAULT_SETTINGS } from "@/lib/settings/row";
import { assertStaffCan } from "@/lib/staff/authorize";
import { requireReason } from "@/lib/staff/reason";
import { loadUserWithSettingsFor } from "@/lib/users/access";
import { formatSignInToken } from "./format";

export { formatSignInToken, type ParsedSignInToken, parseSignInToken } from "./format";
export { listPendingSignInTokens, type PendingSignInToken, revokeSignInToken } from "./pending";

export const MIN_SIGN_IN_TTL_SECONDS = 60;
export const MAX_SIGN_IN_TTL_SECONDS = 86_400;

export interface IssuedSignInToken {
  userId: string;
  /** Shown once; only its hash is stored. */
  signInToken: string;
  expiresAt: Date;
  /** The token's row id, for the console's live status (`getSignInTokenStatus`). */
  tokenId: string;
}

export interface IssueSignInTokenOptions {
  expiresInSeconds?: number | null;
  /** Required for staff. */
  reason?: string | null;
  /** Injectable clock for tests. */
  now?: Date;
}

export async function issueSignInToken(
  db: Database,
  actor: Actor,
  userId: string,
  opts: IssueSignInTokenOptions,
  meta: RequestMeta,
): Promise<IssuedSignInToken> {
  if (actor.type !== "api_key" && actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  const reason = requireReason(opts.reason, "issuing a sign-in token", { optional: actor.type !== "staff" });
  const ttl = opts.expiresInSeconds;
  if (ttl !== undefined && ttl !== null && (!Number.isInteger(ttl) || ttl < MIN_SIGN_IN_TTL_SECONDS || ttl > MAX_SIGN_IN_TTL_SECONDS)) {
    throw new DomainError("validation_failed", `expires_in_seconds: must be a whole number from ${MIN_SIGN_IN_TTL_SECONDS} to ${MAX_SIGN_IN_TTL_SECONDS}.`, {
      field: "expires_in_seconds",
    });
  }
  const now = opts.now ?? new Date();
  if (actor.type === "api_key") {
    const issued = await issueInOneStatement(db, actor, userId, ttl ?? null, reason, now, meta);
    if (issued) return issued;
  }
  return db.transaction(async (tx) => {
    // Locking the user row orders us against a concurrent disable/delete: a token is never issued
    // to a user whose disabling has already committed. The environment's settings come with it.
    const { user, settings } = await loadUserWithSettingsFor(tx, actor, userId, {
      permission: "users:issue_tokens",
      scope: "sign_in_tokens:write",
      forUpdate: true,
    });
    if (user.disabledAt) throw new DomainError("user_disabled", "The user is disabled; enable it before issuing a sign-in token.");
    signInTtlSeen.set(user.environment, settings.signInTokenTtlSeconds);
    const issue = newSignInToken(actor, user, ttl ?? settings.signInTokenTtlSeconds, reason, now);
    // The token row and its audit event go out together (postgres.js pipelines them on the
    // transaction's connection), and COMMIT right behind them (commitWith): one round trip for the
    // three. `sql` templates, not the builder (db/rows.ts says why).
    const writes = Promise.all([
      queryRows(tx, sql`insert into sign_in_tokens (${TOKEN_COLUMNS}) values (${issue.values})`, { prepare: true }),
      recordAudit(tx, issue.audit, meta),
    ]);
    return commitWith(tx, writes, issue.issued);
  });
}

/**
 * The sign-in token lifetime each environment's settings gave when this process last read them:
 * the one-statement path's guess at the default lifetime, which its statement checks against the
 * settings row (a changed setting makes it write nothing, and the transaction reads the new one).
 */
const signInTtlSeen = new Map<string, number>();

const TOKEN_COLUMNS = sql.raw("id, user_id, environment, region, token_hash, expires_at, issued_by_type, issued_by_id, reason, created_at");

/** A new token for `user`: what the caller gets, the row's values (TOKEN_COLUMNS' order) and the audit event. */
function newSignInToken(
  actor: Actor,
  user: { id: string; environment: Environment; region: string },
  lifetime: number,
  reason: string | null,
  now: Date,
): { issued: IssuedSignInToken; values: SQL; audit: AuditInput } {
  const token = formatSignInToken(user.environment, user.region);
  const expiresAt = new Date(now.getTime() + lifetime * 1000);
  const id = newId();
  return {
    issued: { userId: user.id, signInToken: token, expiresAt, tokenId: id },
    values: sql`${id}::uuid, ${user.id}::uuid, ${user.environment}, ${user.region}, ${hashSecret(token)}, ${expiresAt.toISOString()}::timestamptz,
                ${actor.type}, ${actor.id}, ${reason}, ${now.toISOString()}::timestamptz`,
    audit: {
      actor,
      action: "sign_in_token.issued",
      target: { type: "user", id: user.id },
      environment: user.environment,
      reason,
      details: { signInTokenId: id, userId: user.id, expiresInSeconds: lifetime, expiresAt: expiresAt.toISOString() },
      occurredAt: now,
    },
  };
}

/**
 * The machine API's common case — an API key issuing a token to a live user of its own environment
 * and region — as one autocommit statement: no BEGIN, no COMMIT, one round trip instead of two.
 * The key names the user's environment and region (any other user is "not found" to it), and the
 * default lifetime is the one last seen (`signInTtlSeen`), so the token and its audit row (whose
 * HMAC covers them) are made before the statement; the statement checks all of it as it locks the
 * row. FOR UPDATE re-checks the WHERE on the row's newest version after waiting for a concurrent
 * disable or delete (READ COMMITTED), so, as in the transaction, a token is never issued to a user
 * whose disabling has committed. Returns null when it wrote nothing (no such user for this key,
 * disabled, deleted, a lifetime not seen yet or changed): the transaction then decides, with its
 * own errors. The scope is checked here as the transaction would, first.
 */
async function issueInOneStatement(
  db: Database,
  actor: Extract<Actor, { type: "api_key" }>,
  userId: string,
  ttl: number | null,
  reason: string | null,
  now: Date,
  meta: RequestMeta,
): Promise<IssuedSignInToken | null> {
  assertKeyScope(actor, "sign_in_tokens:write");
  const lifetime = ttl ?? signInTtlSeen.get(actor.environment);
  if (!isUuid(userId) || !isEnvironment(actor.environment) || lifetime === undefined) return null;
  const issue = newSignInToken(actor, { id: userId, environment: actor.environment, region: actor.region }, lifetime, reason, now);
  const audit = guardedAuditInsert(issue.audit, meta, sql`exists (select from t)`);
  const defaultLifetime =
    ttl === null ? sql`and coalesce(s.sign_in_token_ttl_seconds, ${DEFAULT_SETTINGS.signInTokenTtlSeconds}::int) = ${lifetime}::int` : sql``;
  const made = await queryRows(
    db,
    sql`with u as (
          select u.id from users u left join environment_settings s on s.environment = u.environment
          where u.id = ${userId}::uuid and u.environment = ${actor.environment} and u.region = ${actor.region}
            and u.deleted_at is null and u.disabled_at is null ${defaultLifetime}
          for update of u),
        t as (insert into sign_in_tokens (${TOKEN_COLUMNS}) select ${issue.values} from u returning id),
        a as (${audit.insert})
        select id from t`,
    { prepare: true },
  );
  if (!made.length) return null;
  audit.written();
  return issue.issued;
}

export type SignInTokenState = "pending" | "redeemed" | "expired" | "revoked";

export interface SignInTokenStatus {
  id: string;
  userId: string;
  environment: "sandbox" | "production";
  region: string;
  state: SignInTokenState;
  createdAt: Date;
  expiresAt: Date;
  redeemedAt: Date | null;
  sessionId: string | null;
}

export function signInTokenState(row: Pick<SignInToken, "usedAt" | "expiresAt" | "revokedAt">, now: Date = new Date()): SignInTokenState {
  if (row.usedAt) return "redeemed";
  if (row.revokedAt) return "revoked";
  return row.expiresAt.getTime() <= now.getTime() ? "expired" : "pending";
}

/** For the console's live "redeemed / not yet / expired" display; never the secret. */
export async function getSignInTokenStatus(db: Executor, actor: Actor, tokenId: string, opts: { now?: Date } = {}): Promise<SignInTokenStatus> {
  if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  if (!isUuid(tokenId)) throw new DomainError("sign_in_token_not_found", "No such sign-in token.");
  const [row] = await db.select().from(signInTokens).where(eq(signInTokens.id, tokenId));
  if (!row) throw new DomainError("sign_in_token_not_found", "No such sign-in token.");
  assertStaffCan(actor, "users:read", row.environment);
  return {
    id: row.id,
    userId: row.userId,
    environment: row.environment,
    region: row.region,
    state: signInTokenState(row, opts.now),
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    redeemedAt: row.usedAt,
    sessionId: row.sessionId,
  };
}

/** Reads a token without consuming it (migration checks happen before redemption). */
export async function peekSignInToken(db: Executor, token: string): Promise<SignInToken | null> {
  const [row] = await db
    .select()
    .from(signInTokens)
    .where(eq(signInTokens.tokenHash, hashSecret(token)));
  return row ?? null;
}
