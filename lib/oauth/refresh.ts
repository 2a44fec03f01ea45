/**
 * The refresh grant with rotation (RFC 9700 §4.14.2): every use returns a new refresh token; the
 * used one stays accepted until `grace_until` (environment setting) so an SDK that lost a response
 * can retry; presenting it after that is treated as theft and ends the whole family (the SDK
 * session), newest tokens included.
 *
 * Concurrency: the presented token's row is locked FOR UPDATE, so parallel refreshes with one token
 * run one after another: the first rotates it and opens the grace window, the others are retries
 * inside the window. All their new tokens belong to the same session.
 */
import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { refreshTokens, sdkSessions, users } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { getSettings } from "@/lib/settings";
import { isRefreshTokenShape } from "@/lib/sign-in/format";
import { invalidGrant } from "./errors";
import { sdkUserActor } from "./exchange";
import { insertRefreshToken, signAccessToken, type TokenResponse } from "./tokens";

const INVALID_REFRESH = "The refresh token is invalid.";

export async function refreshSdkSession(db: Database, presented: string, meta: RequestMeta, opts: { now?: Date } = {}): Promise<TokenResponse> {
  const now = opts.now ?? new Date();
  if (!isRefreshTokenShape(presented)) throw invalidGrant(INVALID_REFRESH);

  const outcome = await db.transaction(async (tx) => {
    const [rt] = await tx.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hashSecret(presented))).for("update");
    if (!rt) return { error: INVALID_REFRESH } as const;
    const [session] = await tx.select().from(sdkSessions).where(eq(sdkSessions.id, rt.sessionId)).for("update");
    if (!session) return { error: INVALID_REFRESH } as const;
    const [user] = await tx.select().from(users).where(eq(users.id, session.userId));
    // The user's state is named first: an SDK told `user_deleted`/`user_disabled` signs out for good.
    if (!user || user.deletedAt) return { error: "user_deleted: The user has been deleted." } as const;
    if (user.disabledAt) return { error: "user_disabled: The user is disabled." } as const;
    if (session.revokedAt) return { error: `session_revoked: The session has ended (${session.revokeReason ?? "revoked"}).` } as const;
    if (session.expiresAt.getTime() <= now.getTime()) return { error: "session_expired: The session reached its absolute lifetime; sign in again." } as const;

    const settings = await getSettings(tx, session.environment);
    if (rt.rotatedAt) {
      if (!rt.graceUntil || rt.graceUntil.getTime() <= now.getTime()) {
        await tx.update(sdkSessions).set({ revokedAt: now, revokeReason: "refresh_token_reuse" }).where(eq(sdkSessions.id, session.id));
        await recordAudit(
          tx,
          {
            actor: sdkUserActor(user.id, user.clientUserId),
            action: "refresh_token.reuse_detected",
            target: { type: "sdk_session", id: session.id },
            environment: session.environment,
            outcome: "denied",
            details: { userId: user.id, refreshTokenId: rt.id, rotatedAt: rt.rotatedAt.toISOString(), installationId: session.installationId },
            occurredAt: now,
          },
          meta,
        );
        // Committed, then refused: the family stays dead whatever the caller does next.
        return { error: "refresh_token_reused: The refresh token was already used; the session has been ended." } as const;
      }
    } else {
      await tx
        .update(refreshTokens)
        .set({ rotatedAt: now, graceUntil: new Date(now.getTime() + settings.refreshGraceSeconds * 1000) })
        .where(eq(refreshTokens.id, rt.id));
    }
    const refreshToken = await insertRefreshToken(tx, session.id, now);
    await tx.update(sdkSessions).set({ lastRefreshAt: now }).where(eq(sdkSessions.id, session.id));
    return { session, refreshToken, accessTtl: settings.accessTokenTtlSeconds } as const;
  });
  if ("error" in outcome) throw invalidGrant(outcome.error!);

  const { session } = outcome;
  const access = await signAccessToken(
    db,
    { userId: session.userId, sessionId: session.id, environment: session.environment, region: session.region },
    outcome.accessTtl,
    now,
  );
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: outcome.accessTtl,
    refresh_token: outcome.refreshToken,
    user_id: session.userId,
    environment: session.environment,
    region: session.region,
  };
}
