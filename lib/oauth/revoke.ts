/**
 * RFC 7009 revocation. The endpoint answers 200 whatever it was given (an unknown or malformed
 * token must not be distinguishable from a revoked one). A refresh token ends its whole family (the
 * SDK session); an access token is revoked alone, by `jti`, until it would have expired anyway.
 */
import { and, eq, isNull, lt } from "drizzle-orm";
import type { Database } from "@/db/client";
import { refreshTokens, revokedAccessTokens, sdkSessions, users } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { metrics } from "@/lib/metrics";
import { isRefreshTokenShape } from "@/lib/sign-in-tokens/format";
import { sessionRevokedData } from "@/lib/webhooks/events";
import { verifyAccessToken } from "./bearer";
import { sdkUserActor } from "./exchange";

export async function revokeToken(
  db: Database,
  token: string,
  meta: RequestMeta,
  opts: { now?: Date } = {},
): Promise<{ revoked: "refresh_token" | "access_token" | null }> {
  const now = opts.now ?? new Date();
  if (isRefreshTokenShape(token)) {
    return db.transaction(async (tx) => {
      const [rt] = await tx
        .select({ sessionId: refreshTokens.sessionId })
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, hashSecret(token)));
      if (!rt) return { revoked: null };
      const [session] = await tx
        .update(sdkSessions)
        .set({ revokedAt: now, revokeReason: "revoked_by_client" })
        .where(and(eq(sdkSessions.id, rt.sessionId), isNull(sdkSessions.revokedAt)))
        .returning();
      if (!session) return { revoked: "refresh_token" as const };
      const [user] = await tx.select({ clientUserId: users.clientUserId }).from(users).where(eq(users.id, session.userId));
      await recordAudit(
        tx,
        {
          actor: sdkUserActor(session.userId, user?.clientUserId ?? null),
          action: "sdk_session.revoked",
          target: { type: "sdk_session", id: session.id },
          environment: session.environment,
          reason: "revoked_by_client",
          details: { userId: session.userId, installationId: session.installationId, via: "oauth_revoke" },
          occurredAt: now,
          webhook: { type: "sdk_session.revoked", data: sessionRevokedData(session, "revoked_by_client", { type: "user" }) },
        },
        meta,
      );
      return { revoked: "refresh_token" as const };
    });
  }
  let claims: Awaited<ReturnType<typeof verifyAccessToken>>;
  try {
    claims = await verifyAccessToken(db, token, now);
  } catch {
    return { revoked: null }; // not ours, malformed or expired: nothing left to revoke
  }
  await db
    .insert(revokedAccessTokens)
    .values({ jti: claims.jti, expiresAt: new Date(claims.exp * 1000) })
    .onConflictDoNothing();
  metrics().revocations.inc({ kind: "access_token" });
  return { revoked: "access_token" };
}

/** Sweeper: a revoked jti is only needed until the token would have expired. */
export async function sweepRevokedAccessTokens(db: Database, now: Date): Promise<number> {
  const gone = await db.delete(revokedAccessTokens).where(lt(revokedAccessTokens.expiresAt, now)).returning({ jti: revokedAccessTokens.jti });
  return gone.length;
}
