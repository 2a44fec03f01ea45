/**
 * RFC 8693 token exchange of a sign-in token for an access + refresh token pair, optionally as the
 * migration of an SDK installation from Team-API-key mode.
 *
 * Concurrency: redemption is one atomic UPDATE (startSdkSession's first statement), inside the transaction
 * that also creates the SDK session; of N concurrent exchanges exactly one commits a session, and a
 * refusal later in the transaction (user disabled...) rolls the redemption back.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { commitWith, type Database, fixedStatement, queryRows } from "@/db/client";
import { type ApiKey, apiKeyInstallations, apiKeys, type SignInToken, type User } from "@/db/schema";
import { apiKeyActor } from "@/lib/api-keys";
import { apiKeyPrefix, parseApiKey } from "@/lib/api-keys/format";
import { type AuditInput, AuditStatement, recordAudit, recordAudits } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { newId } from "@/lib/ids";
import { counted } from "@/lib/metrics";
import { SETTINGS_COLUMNS, settingsOfRow } from "@/lib/settings/row";
import { parseSignInToken, peekSignInToken } from "@/lib/sign-in-tokens";
import { formatRefreshToken } from "@/lib/sign-in-tokens/format";
import { userRef } from "@/lib/webhooks/events";
import { invalidGrant, OAuthError } from "./errors";
import { ACCESS_TOKEN_TYPE, signAccessToken, type TokenResponse } from "./tokens";

export const MAX_INSTALLATION_ID_LENGTH = 200;

export interface MigrationInput {
  /** The Team API key the SDK was configured with (X-Vital-API-Key), as presented. */
  apiKey: string | null;
  /** The user id the SDK was signed in as in API-key mode. */
  previousUserId: string | null;
}

export interface ExchangeInput {
  signInToken: string;
  installationId?: string | null;
  migration?: MigrationInput | null;
}

const INVALID_TOKEN = "The sign-in token is invalid, expired, revoked or already used.";

/** The User-Agent an SDK session records of its first and latest use (at most 512 characters). */
export const clientUserAgent = (meta: RequestMeta): string | null => meta.userAgent?.slice(0, 512) || null;

/** The user as the SDK would name it in the audit log. */
export const sdkUserActor = (userId: string, name: string | null = null): Actor => ({ type: "user", id: userId, name });

/**
 * Checks a migration request against the (unconsumed) token; returns the key on success or the
 * reason for refusal. Only key ids and prefixes are ever named, never the presented secret.
 */
async function checkMigration(
  db: Database,
  m: MigrationInput,
  token: SignInToken,
): Promise<{ ok: true; key: ApiKey } | { ok: false; reason: string; message: string; key: ApiKey | null }> {
  const parsed = m.apiKey ? parseApiKey(m.apiKey) : null;
  const [key] = parsed
    ? await db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.keyHash, hashSecret(m.apiKey!)))
    : [];
  if (!key) return { ok: false, reason: "unknown_api_key", message: "the API key is not one of this team's keys", key: null };
  if (key.revokedAt) return { ok: false, reason: "api_key_revoked", message: "the API key has been revoked", key };
  if (key.environment !== token.environment) {
    return {
      ok: false,
      reason: "environment_mismatch",
      message: `the API key's environment (${key.environment}) is not the sign-in token's (${token.environment})`,
      key,
    };
  }
  if (key.region !== token.region) {
    return { ok: false, reason: "region_mismatch", message: `the API key's region (${key.region}) is not the sign-in token's (${token.region})`, key };
  }
  if (!m.previousUserId) return { ok: false, reason: "previous_user_id_missing", message: "previous_user_id is required for a migration", key };
  if (m.previousUserId !== token.userId) {
    return { ok: false, reason: "user_mismatch", message: "previous_user_id is not the user the sign-in token was issued for", key };
  }
  return { ok: true, key };
}

/**
 * The token-exchange grant: a sign-in token (once) for an SDK session — optionally moving an
 * installation off its Team API key — and the session's first access and refresh tokens. Every call
 * is counted in tokendesk_token_exchanges_total by outcome.
 */
export const exchangeSignInToken = counted("exchanges", exchange);

async function exchange(db: Database, input: ExchangeInput, meta: RequestMeta, opts: { now?: Date } = {}): Promise<TokenResponse> {
  const now = opts.now ?? new Date();
  const claimed = parseSignInToken(input.signInToken);
  if (!claimed) throw invalidGrant(INVALID_TOKEN);
  const installationId = input.installationId?.trim() || null;
  if (installationId && (installationId.length > MAX_INSTALLATION_ID_LENGTH || /[\u0000-\u001f]/.test(installationId))) {
    throw new OAuthError("invalid_request", `installation_id must be at most ${MAX_INSTALLATION_ID_LENGTH} printable characters.`);
  }
  // Checked before anything is consumed: a refused migration leaves the sign-in token usable.
  const migrationKey = input.migration ? await approveMigration(db, input.signInToken, input.migration, installationId, meta, now) : null;
  const started = await startSdkSession(db, { signInToken: input.signInToken, installationId, migrationKey }, meta, now);

  // Signed after commit: signing may read the key table through `db`, which must never happen
  // while this request holds a transaction (PGlite has one connection).
  const access = await signAccessToken(
    db,
    { userId: started.user.id, sessionId: started.sessionId, environment: started.user.environment, region: started.user.region },
    started.accessTtl,
    now,
  );
  return {
    access_token: access.token,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: "Bearer",
    expires_in: started.accessTtl,
    refresh_token: started.refreshToken,
    user_id: started.user.id,
    environment: started.user.environment,
    region: started.user.region,
  };
}

/**
 * The migration check of an exchange that names an API key: the key this installation used must
 * be the team's, live, of the sign-in token's environment and region, and `previous_user_id` its
 * user. A refusal is audited (`migration.rejected`, naming the key by id and prefix, never the
 * secret) and answered `invalid_grant` with `incompatible_migration:`; the sign-in token stays
 * unused.
 */
async function approveMigration(
  db: Database,
  signInToken: string,
  migration: NonNullable<ExchangeInput["migration"]>,
  installationId: string | null,
  meta: RequestMeta,
  now: Date,
): Promise<ApiKey> {
  const token = await peekSignInToken(db, signInToken);
  if (!token || token.usedAt || token.revokedAt || token.expiresAt.getTime() <= now.getTime()) throw invalidGrant(INVALID_TOKEN);
  const verdict = await checkMigration(db, migration, token);
  if (verdict.ok) return verdict.key;
  const presentedPrefix = migration.apiKey && parseApiKey(migration.apiKey) ? apiKeyPrefix(migration.apiKey) : null;
  await db.transaction(async (tx) => {
    await recordAudit(
      tx,
      {
        actor: verdict.key ? apiKeyActor(verdict.key) : { type: "anonymous", id: null, name: presentedPrefix },
        action: "migration.rejected",
        target: { type: "user", id: token.userId },
        environment: token.environment,
        outcome: "denied",
        reason: verdict.reason,
        details: {
          userId: token.userId,
          apiKeyId: verdict.key?.id ?? null,
          apiKeyPrefix: verdict.key?.prefix ?? presentedPrefix,
          previousUserId: migration.previousUserId,
          installationId,
          signInTokenId: token.id,
        },
        occurredAt: now,
        webhook: {
          type: "migration.rejected",
          data: {
            user_id: token.userId,
            environment: token.environment,
            region: token.region,
            api_key_id: verdict.key?.id ?? null,
            api_key_prefix: verdict.key?.prefix ?? presentedPrefix,
            previous_user_id: migration.previousUserId,
            installation_id: installationId,
            reason: verdict.reason,
          },
        },
      },
      meta,
    );
  });
  throw invalidGrant(`incompatible_migration: ${verdict.message}.`);
}

/**
 * The redemption, the one atomic UPDATE: of N concurrent exchanges of a token, the row lock lets
 * exactly one see it unused and the others re-check after it commits and get no row; a revocation
 * (`revokeSignInToken`) is the same kind of UPDATE on the same row, so a token is redeemed or revoked,
 * never both — then the user with a shared lock, which orders us against a concurrent disable/delete
 * (it locks the row for update): either it sees our session and ends it, or we see the user disabled
 * and roll back. The environment's settings come with it. Only the user columns the exchange uses,
 * listed (db/rows.ts says why); the text is compiled once (fixedStatement).
 */
const REDEEM = fixedStatement<"at" | "sessionId" | "tokenHash">(
  (p) => sql`with t as (
      update sign_in_tokens set used_at = ${p.at}::timestamptz, session_id = ${p.sessionId}::uuid
      where token_hash = ${p.tokenHash} and used_at is null and revoked_at is null and expires_at > ${p.at}::timestamptz
      returning id, user_id)
    select t.id as t_id, u.id, u.client_user_id, u.environment, u.region, u.disabled_at is not null as disabled,
           u.deleted_at is not null as deleted, ${SETTINGS_COLUMNS}
    from t join users u on u.id = t.user_id left join environment_settings s on s.environment = u.environment
    for share of u`,
);

/**
 * The session with its first refresh token, as CTEs of the exchange's audit INSERT (recordAudits'
 * `alongside`): one statement, its text compiled once.
 */
const START_SESSION = new AuditStatement<
  | "sessionId"
  | "userId"
  | "environment"
  | "region"
  | "installationId"
  | "tokenId"
  | "migratedFromKeyId"
  | "expiresAt"
  | "now"
  | "ip"
  | "userAgent"
  | "refreshId"
  | "refreshHash"
>(
  (p) => sql`session as (
      insert into sdk_sessions (id, user_id, environment, region, installation_id, sign_in_token_id, migrated_from_key_id, expires_at, created_at,
                                first_ip, first_user_agent)
      values (${p.sessionId}::uuid, ${p.userId}::uuid, ${p.environment}, ${p.region}, ${p.installationId}, ${p.tokenId}::uuid,
              ${p.migratedFromKeyId}::uuid, ${p.expiresAt}::timestamptz, ${p.now}::timestamptz, ${p.ip}, ${p.userAgent})),
    refresh as (
      insert into refresh_tokens (id, session_id, token_hash, created_at)
      values (${p.refreshId}::uuid, ${p.sessionId}::uuid, ${p.refreshHash}, ${p.now}::timestamptz))`,
);

/** The user an exchange starts a session for: what the session, its audit events and the answer name. */
type SessionUser = Pick<User, "id" | "clientUserId" | "environment" | "region">;

/**
 * Redeems the sign-in token and starts the SDK session in one transaction: the session with its
 * first refresh token, the audit events (redeemed, started, and migration.completed when it moves
 * an installation off its key) and the installation marked migrated.
 */
async function startSdkSession(
  db: Database,
  input: { signInToken: string; installationId: string | null; migrationKey: ApiKey | null },
  meta: RequestMeta,
  now: Date,
): Promise<{ user: SessionUser; sessionId: string; refreshToken: string; accessTtl: number }> {
  const { installationId, migrationKey } = input;
  const sessionId = newId();
  const at = now.toISOString();
  const tokenHash = hashSecret(input.signInToken);
  return db.transaction(async (tx) => {
    // One statement: the redemption and the user, share-locked (REDEEM says why).
    const [raw] = await queryRows<Record<string, unknown>>(tx, REDEEM({ at, sessionId, tokenHash }), { prepare: true });
    if (!raw) throw invalidGrant(INVALID_TOKEN);
    const token = { id: raw.t_id as string };
    const user: SessionUser = {
      id: raw.id as string,
      clientUserId: raw.client_user_id as string,
      environment: raw.environment as User["environment"],
      region: raw.region as string,
    };
    if (raw.deleted) throw invalidGrant("user_deleted: The user has been deleted.");
    if (raw.disabled) throw invalidGrant("user_disabled: The user is disabled.");
    const settings = settingsOfRow(user.environment, raw);
    const refreshToken = formatRefreshToken();
    const actor = sdkUserActor(user.id, user.clientUserId);
    const events: AuditInput[] = [
      {
        actor,
        action: "sign_in_token.redeemed",
        target: { type: "user", id: user.id },
        environment: user.environment,
        details: { userId: user.id, signInTokenId: token.id, sessionId, installationId },
        occurredAt: now,
        webhook: {
          type: "sign_in_token.redeemed",
          data: { ...userRef(user), sign_in_token_id: token.id, session_id: sessionId, installation_id: installationId },
        },
      },
      {
        actor,
        action: "sdk_session.started",
        target: { type: "sdk_session", id: sessionId },
        environment: user.environment,
        details: { userId: user.id, installationId, signInTokenId: token.id, migratedFromKeyId: migrationKey?.id ?? null },
        occurredAt: now,
      },
    ];
    if (migrationKey) {
      events.push({
        actor: apiKeyActor(migrationKey),
        action: "migration.completed",
        target: { type: "user", id: user.id },
        environment: user.environment,
        details: { userId: user.id, apiKeyId: migrationKey.id, apiKeyPrefix: migrationKey.prefix, installationId, sessionId },
        occurredAt: now,
        webhook: {
          type: "migration.completed",
          data: { ...userRef(user), api_key_id: migrationKey.id, api_key_prefix: migrationKey.prefix, installation_id: installationId, session_id: sessionId },
        },
      });
    }
    // Everything left is writes that cannot fail on their own: the session with its first refresh
    // token ride in the audit events' statement (with the webhook events they carry), and the rest
    // is sent beside it, so they travel in one round trip on the transaction's connection
    // (postgres.js pipelines concurrent queries), with the COMMIT right behind them (commitWith).
    const expiresAt = new Date(now.getTime() + settings.refreshAbsoluteTtlSeconds * 1000);
    const writes = Promise.all([
      recordAudits(tx, events, meta, {
        alongside: {
          statement: START_SESSION,
          values: {
            sessionId,
            userId: user.id,
            environment: user.environment,
            region: user.region,
            installationId,
            tokenId: token.id,
            migratedFromKeyId: migrationKey?.id ?? null,
            expiresAt: expiresAt.toISOString(),
            now: at,
            ip: meta.ip,
            userAgent: clientUserAgent(meta),
            refreshId: newId(),
            refreshHash: hashSecret(refreshToken),
          },
        },
      }),
      migrationKey && installationId
        ? tx
            .update(apiKeyInstallations)
            .set({ migratedAt: now, migratedSessionId: sessionId })
            .where(
              and(
                eq(apiKeyInstallations.apiKeyId, migrationKey.id),
                eq(apiKeyInstallations.userId, user.id),
                eq(apiKeyInstallations.installationId, installationId),
                isNull(apiKeyInstallations.migratedAt),
              ),
            )
        : null,
    ]);
    return commitWith(tx, writes, { user, sessionId, refreshToken, accessTtl: settings.accessTokenTtlSeconds });
  });
}
