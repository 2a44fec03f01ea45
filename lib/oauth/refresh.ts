/**
 * The refresh grant with rotation (RFC 9700 §4.14.2): every use returns a new refresh token, and a
 * family (SDK session) has exactly one live refresh token at every moment. The used token stays
 * accepted until `grace_until` (environment setting) so an SDK that lost a response can retry; a
 * retry *replaces* the successor — the earlier successor dies (`replaced_at`) and a new one is
 * issued — so a replay inside the window cannot split one session into two live chains. Presenting
 * the used token after the window, a replaced successor, or the used token once its successor has
 * itself been used is reuse: the whole family ends and `refresh_token.reuse_detected` is written.
 *
 * Concurrency: the presented token's row and its session are locked FOR UPDATE, so every refresh
 * of one family runs after the other: of parallel refreshes with one token the first rotates it and
 * the others are retries inside its window, each replacing the one before; the last one's token is
 * the family's live one.
 */
import { eq, sql } from "drizzle-orm";
import { commitWith, type Database, queryRows } from "@/db/client";
import { columnsOf, dateOf, rowOf } from "@/db/rows";
import { type SdkSession, sdkSessions } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { newId } from "@/lib/ids";
import { counted } from "@/lib/metrics";
import { DEFAULT_SETTINGS, SETTINGS_COLUMNS, settingsOfRow } from "@/lib/settings/row";
import { formatRefreshToken, isRefreshTokenShape } from "@/lib/sign-in-tokens/format";
import { invalidGrant } from "./errors";
import { clientUserAgent, sdkUserActor } from "./exchange";
import { signAccessToken, type TokenResponse } from "./tokens";

const INVALID_REFRESH = "The refresh token is invalid.";

/** The refresh-token grant; every call is counted in tokendesk_token_refreshes_total by outcome. */
export const refreshSdkSession = counted("refreshes", refreshSession);

async function refreshSession(db: Database, presented: string, meta: RequestMeta, opts: { now?: Date } = {}): Promise<TokenResponse> {
  const now = opts.now ?? new Date();
  if (!isRefreshTokenShape(presented)) throw invalidGrant(INVALID_REFRESH);

  const outcome = (await rotateOnFirstUse(db, presented, meta, now)) ?? (await refreshInTransaction(db, presented, meta, now));
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

/** A rotation that happened: the session as it was locked, the successor's secret, the access lifetime. */
interface Rotated {
  session: SdkSession;
  refreshToken: string;
  accessTtl: number;
}

/**
 * The common case in one autocommit statement: a token presented for the first time, of a live
 * session, of an enabled user. The statement locks the token and its session exactly as the full
 * path does and rotates only if all of that still holds once the locks are held (READ COMMITTED
 * re-checks a locked row's WHERE against its newest version), so a concurrent refresh, disable,
 * revoke or reuse makes it rotate nothing; then the full path (`refreshInTransaction`) decides,
 * as it does for everything that is not the common case: retries inside the grace window, reuse,
 * refusals. One round trip and no BEGIN/COMMIT instead of two round trips: a refresh is the call
 * every SDK installation makes every access-token lifetime.
 */
export async function rotateOnFirstUse(db: Database, presented: string, meta: RequestMeta, now: Date): Promise<Rotated | null> {
  const refreshToken = formatRefreshToken();
  const successorId = newId();
  const at = now.toISOString();
  const [raw] = await queryRows<Record<string, unknown>>(
    db,
    sql`with presented as (
          select rt.id as rt_id, ${columnsOf(sdkSessions, "ss")}, ${SETTINGS_COLUMNS}
          from refresh_tokens rt
          join sdk_sessions ss on ss.id = rt.session_id
          join users u on u.id = ss.user_id
          left join environment_settings s on s.environment = ss.environment
          where rt.token_hash = ${hashSecret(presented)} and rt.rotated_at is null and rt.replaced_at is null
            and ss.revoked_at is null and ss.expires_at > ${at}::timestamptz and u.disabled_at is null and u.deleted_at is null
          for update of rt, ss
        ), successor as (
          insert into refresh_tokens (id, session_id, token_hash, created_at)
          select ${successorId}::uuid, p.id, ${hashSecret(refreshToken)}, ${at}::timestamptz from presented p
        ), rotated as (
          update refresh_tokens set successor_id = ${successorId}::uuid, rotated_at = ${at}::timestamptz,
            grace_until = ${at}::timestamptz + make_interval(secs => coalesce(p.s_refresh_grace, ${DEFAULT_SETTINGS.refreshGraceSeconds}))
          from presented p where refresh_tokens.id = p.rt_id
        ), stamped as (
          update sdk_sessions set last_refresh_at = ${at}::timestamptz, last_ip = ${meta.ip}, last_user_agent = ${clientUserAgent(meta)}
          from presented p where sdk_sessions.id = p.id
        )
        select * from presented`,
    { prepare: true },
  );
  if (!raw) return null;
  const session = rowOf(sdkSessions, raw);
  return { session, refreshToken, accessTtl: settingsOfRow(session.environment, raw).accessTokenTtlSeconds };
}

/** Every refresh the one-statement rotation did not take: the rules of the comment at the top, in one transaction. */
async function refreshInTransaction(db: Database, presented: string, meta: RequestMeta, now: Date): Promise<Rotated | { error: string }> {
  return db.transaction(async (tx) => {
    // One statement reads the presented token, its session (both locked, as the paragraph above
    // says), the user and the environment's settings. `sql` template, not the builder: db/rows.ts.
    const [raw] = await queryRows<Record<string, unknown>>(
      tx,
      sql`select rt.id as rt_id, rt.rotated_at as rt_rotated_at, rt.grace_until as rt_grace_until,
                 rt.successor_id as rt_successor_id, rt.replaced_at as rt_replaced_at, ${columnsOf(sdkSessions, "ss")},
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
    const rt = {
      id: String(raw.rt_id),
      rotatedAt: dateOf(raw.rt_rotated_at),
      graceUntil: dateOf(raw.rt_grace_until),
      successorId: raw.rt_successor_id ? String(raw.rt_successor_id) : null,
      replacedAt: dateOf(raw.rt_replaced_at),
    };
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
    const reuse = async (why: "after_grace" | "replaced" | "successor_used") => {
      await tx.update(sdkSessions).set({ revokedAt: now, revokeReason: "refresh_token_reuse" }).where(eq(sdkSessions.id, session.id));
      await recordAudit(
        tx,
        {
          actor: sdkUserActor(user.id, user.clientUserId),
          action: "refresh_token.reuse_detected",
          target: { type: "sdk_session", id: session.id },
          environment: session.environment,
          outcome: "denied",
          details: {
            userId: user.id,
            refreshTokenId: rt.id,
            why,
            rotatedAt: rt.rotatedAt?.toISOString() ?? null,
            replacedAt: rt.replacedAt?.toISOString() ?? null,
            installationId: session.installationId,
          },
          occurredAt: now,
          webhook: {
            type: "refresh_token.reuse_detected",
            data: {
              session_id: session.id,
              user_id: user.id,
              environment: session.environment,
              region: session.region,
              installation_id: session.installationId,
              refresh_token_id: rt.id,
              reason: why,
              rotated_at: rt.rotatedAt?.toISOString() ?? null,
            },
          },
        },
        meta,
      );
      // Committed, then refused: the family stays dead whatever the caller does next.
      return { error: "refresh_token_reused: The refresh token was already used; the session has been ended." } as const;
    };
    if (rt.replacedAt) return reuse("replaced");
    let replacing: string | null = null;
    if (rt.rotatedAt) {
      if (!rt.graceUntil || rt.graceUntil.getTime() <= now.getTime()) return reuse("after_grace");
      // A retry inside the window. Its successor dies in favour of the new one — unless the SDK has
      // already used that successor, which a lost response cannot explain.
      if (rt.successorId) {
        const [successor] = await queryRows<{ rotated_at: unknown }>(tx, sql`select rotated_at from refresh_tokens where id = ${rt.successorId}::uuid`);
        if (successor?.rotated_at) return reuse("successor_used");
        replacing = rt.successorId;
      }
    }
    // One statement: store the successor, point the presented token at it (marking it used and
    // opening its grace window on first use, or killing the successor it replaces on a retry),
    // stamp the session with the time, IP and User-Agent of this use.
    const refreshToken = formatRefreshToken();
    const successorId = newId();
    const at = now.toISOString();
    const graceUntil = new Date(now.getTime() + settings.refreshGraceSeconds * 1000).toISOString();
    // COMMIT goes right behind it (commitWith): one round trip for both.
    const rotation = queryRows(
      tx,
      sql`with successor as (
            insert into refresh_tokens (id, session_id, token_hash, created_at)
            values (${successorId}::uuid, ${session.id}::uuid, ${hashSecret(refreshToken)}, ${at}::timestamptz)
          ), presented as (
            update refresh_tokens set successor_id = ${successorId}::uuid,
              rotated_at = coalesce(rotated_at, ${at}::timestamptz), grace_until = coalesce(grace_until, ${graceUntil}::timestamptz)
            where id = ${rt.id}::uuid
          ), replaced as (
            update refresh_tokens set replaced_at = ${at}::timestamptz where id = ${replacing}::uuid and replaced_at is null
          )
          update sdk_sessions set last_refresh_at = ${at}::timestamptz, last_ip = ${meta.ip}, last_user_agent = ${clientUserAgent(meta)}
          where id = ${session.id}::uuid`,
      { prepare: true },
    );
    return commitWith(tx, rotation, { session, refreshToken, accessTtl: settings.accessTokenTtlSeconds });
  });
}
