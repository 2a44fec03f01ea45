/**
 * The user-scoped API's authentication: an SDK access token (JWT) verified against tokendesk's own
 * keys (jwt.ts refuses `alg: none`, foreign keys, `jku`/`jwk` headers, wrong iss/aud, expiry), and
 * then checked against the database so that revocation is immediate: a revoked `jti`, an ended SDK
 * session (revoked, or past its absolute lifetime), or a disabled/deleted user all refuse a JWT that
 * is otherwise still valid.
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { columnsOf, dateOf, rowOf } from "@/db/rows";
import { type User, users } from "@/db/schema";
import type { Actor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { JwtError, SDK_AUDIENCE, verifyJwt } from "./jwt";

export interface BearerIdentity {
  userId: string;
  sessionId: string;
  environment: string;
  region: string;
  jti: string;
  exp: number;
  iat: number;
  actor: Extract<Actor, { type: "user" }>;
  /** The user's row as of this check, so a handler need not read it again. */
  user: User;
}

export const invalidToken = (message: string) => new DomainError("invalid_token", message);

/** Verifies signature and claims only (no database state): for introspection and revocation. */
export async function verifyAccessToken(db: Executor, token: string, now?: Date) {
  const claims = await verifyJwt(db, token, { audience: SDK_AUDIENCE, now });
  const { sid, environment, region } = claims as Record<string, unknown>;
  if (typeof sid !== "string" || typeof environment !== "string" || typeof region !== "string") {
    throw new JwtError("claims", "The token is not an SDK access token.");
  }
  return { ...claims, sid, environment, region };
}

export async function authenticateBearer(db: Executor, token: string | null, opts: { now?: Date } = {}): Promise<BearerIdentity> {
  if (!token) throw invalidToken("An access token is required (Authorization: Bearer <token>).");
  let claims: Awaited<ReturnType<typeof verifyAccessToken>>;
  try {
    claims = await verifyAccessToken(db, token, opts.now);
  } catch (err) {
    if (err instanceof JwtError) throw invalidToken(err.message);
    throw err;
  }
  // One round trip for the three revocation checks (revoked jti, ended session, disabled or deleted
  // user) that also brings the user's row for the handler: the revoked-jti probe is a scalar
  // subquery, the session and its user a left join, so a row comes back even when the session does
  // not exist.
  const [state] = await queryRows<Record<string, unknown>>(
    db,
    sql`select exists(select 1 from revoked_access_tokens where jti = ${claims.jti}) as jti_revoked, s.*
        from (select 1) as one
        left join (
          select true as session_found, ss.revoked_at as session_revoked_at, ss.expires_at as session_expires_at, ${columnsOf(users, "u")}
          from sdk_sessions ss join users u on u.id = ss.user_id
          where ss.id = ${claims.sid}::uuid and ss.user_id = ${claims.sub}::uuid
        ) as s on true`,
    { prepare: true },
  );
  if (state?.jti_revoked) throw invalidToken("The access token has been revoked.");
  const user = state?.session_found ? rowOf(users, state) : null;
  if (!user || user.deletedAt) throw invalidToken("user_deleted: The user has been deleted.");
  if (user.disabledAt) throw invalidToken("user_disabled: The user is disabled.");
  if (state!.session_revoked_at) throw invalidToken("The session of this access token has ended.");
  // The family's absolute lifetime ends its access tokens too, even one signed just before it
  // (a JWT's own exp may reach past the session's end).
  const sessionEnds = dateOf(state!.session_expires_at);
  if (sessionEnds && sessionEnds.getTime() <= (opts.now ?? new Date()).getTime()) {
    throw invalidToken("session_expired: The session reached its absolute lifetime; sign in again.");
  }
  return {
    userId: claims.sub,
    sessionId: claims.sid,
    environment: claims.environment,
    region: claims.region,
    jti: claims.jti,
    exp: claims.exp,
    iat: claims.iat,
    actor: { type: "user", id: claims.sub, name: user.clientUserId },
    user,
  };
}
