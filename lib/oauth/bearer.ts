/**
 * The user-scoped API's authentication: an SDK access token (JWT) verified against tokendesk's own
 * keys (jwt.ts refuses `alg: none`, foreign keys, `jku`/`jwk` headers, wrong iss/aud, expiry), and
 * then checked against the database so that revocation is immediate: a revoked `jti`, an ended SDK
 * session, or a disabled/deleted user all refuse a JWT that is otherwise still valid.
 */
import { and, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { revokedAccessTokens, sdkSessions, users } from "@/db/schema";
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
}

export const invalidToken = (message: string) => new DomainError("invalid_token", message, 401);

/** `Authorization: Bearer <jwt>` → the token, or null when the header is absent or another scheme. */
export function bearerTokenOf(req: Request): string | null {
  const auth = req.headers.get("authorization")?.trim();
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m ? m[1]! : null;
}

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
  const [revoked] = await db.select({ jti: revokedAccessTokens.jti }).from(revokedAccessTokens).where(eq(revokedAccessTokens.jti, claims.jti));
  if (revoked) throw invalidToken("The access token has been revoked.");
  const [row] = await db
    .select({ revokedAt: sdkSessions.revokedAt, disabledAt: users.disabledAt, deletedAt: users.deletedAt, clientUserId: users.clientUserId })
    .from(sdkSessions)
    .innerJoin(users, eq(users.id, sdkSessions.userId))
    .where(and(eq(sdkSessions.id, claims.sid), eq(sdkSessions.userId, claims.sub)));
  if (!row || row.deletedAt) throw invalidToken("user_deleted: The user has been deleted.");
  if (row.disabledAt) throw invalidToken("user_disabled: The user is disabled.");
  if (row.revokedAt) throw invalidToken("The session of this access token has ended.");
  return {
    userId: claims.sub,
    sessionId: claims.sid,
    environment: claims.environment,
    region: claims.region,
    jti: claims.jti,
    exp: claims.exp,
    iat: claims.iat,
    actor: { type: "user", id: claims.sub, name: row.clientUserId },
  };
}
