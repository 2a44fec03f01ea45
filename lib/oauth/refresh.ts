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
import { eq, sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { type Database, queryRows } from "@/db/client";
import { columnsOf, dateOf, rowOf } from "@/db/rows";
import { sdkSessions } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { counted } from "@/lib/metrics";
import { SETTINGS_COLUMNS, settingsOfRow } from "@/lib/settings/row";
import { formatRefreshToken, isRefreshTokenShape } from "@/lib/sign-in-tokens/format";
import { invalidGrant } from "./errors";
import { sdkUserActor } from "./exchange";
import { signAccessToken, type TokenResponse } from "./tokens";

const INVALID_REFRESH = "The refresh token is invalid.";

/** The refresh-token grant; every call is counted in tokendesk_token_refreshes_total by outcome. */
export const refreshSdkSession = counted("refreshes", refreshSession);

async function refreshSession(db: Database, presented: string, meta: RequestMeta, opts: { now?: Date } = {}): Promise<TokenResponse> {
  const now = opts.now ?? new Date();
  if (!isRefreshTokenShape(presented)) throw invalidGrant(INVALID_REFRESH);

  const outcome = await db.transaction(async (tx) => {
    // One statement reads the presented token, its session (both locked, as the paragraph above
    // says), the user and the environment's settings. `sql` template, not the builder: db/rows.ts.
    const [raw] = await queryRows<Record<string, unknown>>(
      tx,
      sql`select rt.id as rt_id, rt.rotated_at as rt_rotated_at, rt.grace_until as rt_grace_until, ${columnsOf(sdkSessions, "ss")},
                 u.id is not null as u_found, u.client_user_id as u_client_user_id, u.disabled_at as u_disabled_at, u.deleted_at as u_deleted_at,
                 ${SETTINGS_COLUMNS}
          from refresh_tokens rt
          join sdk_sessions ss on ss.id = rt.session_id
          left join users u on u.id = ss.user_id
          left join environment_settings s on s.environment = ss.environment
          where rt.token_hash = ${hashSecret(presented)}
          for update of rt, ss`,
      { prepare: true },
    );
    if (!raw) return { error: INVALID_REFRESH } as const;
    const session = rowOf(sdkSessions, raw);
    const rt = { id: String(raw.rt_id), rotatedAt: dateOf(raw.rt_rotated_at), graceUntil: dateOf(raw.rt_grace_until) };
    let user = raw.u_found
      ? { id: session.userId, clientUserId: String(raw.u_client_user_id), disabledAt: dateOf(raw.u_disabled_at), deletedAt: dateOf(raw.u_deleted_at) }
      : null;
    if (session.revokedAt && user && !user.deletedAt && !user.disabledAt) {
      // The user row is not locked: a refresh that waited for the session lock of a concurrent
      // disable/delete sees that transaction's session update but the user as it was before. A
      // second read (a new snapshot) sees the user as that transaction left it.
      const [again] = await queryRows<{ disabled_at: unknown; deleted_at: unknown }>(
        tx,
        sql`select disabled_at, deleted_at from users where id = ${session.userId}::uuid`,
      );
      user = again ? { ...user, disabledAt: dateOf(again.disabled_at), deletedAt: dateOf(again.deleted_at) } : null;
    }
    // The user's state is named first: an SDK told `user_deleted`/`user_disabled` signs out for good.
    if (!user || user.deletedAt) return { error: "user_deleted: The user has been deleted." } as const;
    if (user.disabledAt) return { error: "user_disabled: The user is disabled." } as const;
    if (session.revokedAt) return { error: `session_revoked: The session has ended (${session.revokeReason ?? "revoked"}).` } as const;
    if (session.expiresAt.getTime() <= now.getTime()) return { error: "session_expired: The session reached its absolute lifetime; sign in again." } as const;

    const settings = settingsOfRow(session.environment, raw);
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
    }
    // The rotation is one statement: mark the presented token used (unless this is a retry inside
    // its grace window), store its successor, stamp the session.
    const refreshToken = formatRefreshToken();
    const at = now.toISOString();
    const graceUntil = new Date(now.getTime() + settings.refreshGraceSeconds * 1000).toISOString();
    await queryRows(
      tx,
      sql`with rotated as (
            update refresh_tokens set rotated_at = ${at}::timestamptz, grace_until = ${graceUntil}::timestamptz
            where id = ${rt.id}::uuid and rotated_at is null
          ), successor as (
            insert into refresh_tokens (id, session_id, token_hash, created_at)
            values (${uuidv7()}::uuid, ${session.id}::uuid, ${hashSecret(refreshToken)}, ${at}::timestamptz)
          )
          update sdk_sessions set last_refresh_at = ${at}::timestamptz where id = ${session.id}::uuid`,
      { prepare: true },
    );
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
