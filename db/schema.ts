/**
 * The one database schema of tokendesk (drizzle, Postgres dialect). Runs unchanged on embedded
 * PGlite and on PostgreSQL. Secrets never live here in the clear: tokens and keys are stored as
 * SHA-256/HMAC digests, passwords as argon2id hashes, signing keys encrypted with TOKENDESK_SECRET.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/** bytea as a Node Buffer, whichever driver read it (PGlite answers Uint8Array). */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => Buffer.from(value),
});

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();

// ---------------------------------------------------------------------------------------------
// Staff (console users) and their sign-in protection
// ---------------------------------------------------------------------------------------------

export const staff = pgTable(
  "staff",
  {
    id: uuid("id").primaryKey(),
    /** Lower-cased; the sign-in name. */
    email: text("email").notNull(),
    name: text("name").notNull(),
    role: text("role", { enum: ["admin", "support", "qa", "auditor"] }).notNull(),
    /** argon2id; null for staff who only sign in through OIDC. */
    passwordHash: text("password_hash"),
    /** `sub` at the OIDC issuer, once the member has signed in through SSO. */
    oidcSubject: text("oidc_subject"),
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
    lastSignInAt: timestamp("last_sign_in_at", { withTimezone: true, mode: "date" }),
    /** Bumped on password reset, role change or disable so older console sessions end. */
    sessionVersion: integer("session_version").notNull().default(1),
    /** The TOTP secret (base32), AES-256-GCM under a key derived from TOKENDESK_SECRET; null: no TOTP. */
    totpSecretEncrypted: text("totp_secret_encrypted"),
    /** The last accepted TOTP time step: a code is accepted once (RFC 6238 §5.2). */
    totpLastStep: bigint("totp_last_step", { mode: "number" }),
    totpEnabledAt: timestamp("totp_enabled_at", { withTimezone: true, mode: "date" }),
    /** Seeded by the demo team (known passwords): admins are warned while any exists. */
    demo: boolean("demo").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("staff_email_key").on(t.email), uniqueIndex("staff_oidc_subject_key").on(t.oidcSubject)],
);
export type Staff = typeof staff.$inferSelect;
export type NewStaff = typeof staff.$inferInsert;

/** WebAuthn credentials (passkeys, security keys) a staff member uses as their second factor. */
export const staffPasskeys = pgTable(
  "staff_passkeys",
  {
    /** The credential id, base64url. */
    id: text("id").primaryKey(),
    staffId: uuid("staff_id")
      .notNull()
      .references(() => staff.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** COSE public key. */
    publicKey: bytea("public_key").notNull(),
    counter: bigint("counter", { mode: "number" }).notNull().default(0),
    transports: jsonb("transports").$type<string[]>().notNull().default([]),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("staff_passkeys_staff_idx").on(t.staffId)],
);
export type StaffPasskey = typeof staffPasskeys.$inferSelect;

/** One-time recovery codes, stored as peppered HMACs; shown once when generated. */
export const staffRecoveryCodes = pgTable(
  "staff_recovery_codes",
  {
    id: uuid("id").primaryKey(),
    staffId: uuid("staff_id")
      .notNull()
      .references(() => staff.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("staff_recovery_codes_hash_key").on(t.codeHash), index("staff_recovery_codes_staff_idx").on(t.staffId)],
);

/**
 * Short-lived, single-use steps of staff authentication: a sign-in waiting for its second factor
 * (found by the hash of the ticket the browser holds), a TOTP enrolment waiting for its first code,
 * a passkey registration waiting for the authenticator's answer.
 */
export const staffChallenges = pgTable(
  "staff_challenges",
  {
    id: uuid("id").primaryKey(),
    staffId: uuid("staff_id")
      .notNull()
      .references(() => staff.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["sign_in", "totp_enrol", "passkey_enrol"] }).notNull(),
    /** sign_in only: HMAC of the ticket. */
    ticketHash: text("ticket_hash"),
    /** The member's session version when the step began: a password reset or disable ends it. */
    staffVersion: integer("staff_version").notNull(),
    /** A TOTP secret being enrolled, encrypted like staff.totp_secret_encrypted. */
    totpSecretEncrypted: text("totp_secret_encrypted"),
    /** The WebAuthn challenge (base64url) last handed out for this step. */
    webauthnChallenge: text("webauthn_challenge"),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("staff_challenges_ticket_key").on(t.ticketHash), index("staff_challenges_expires_idx").on(t.expiresAt)],
);
export type StaffChallenge = typeof staffChallenges.$inferSelect;

/** Deployment-wide sign-in policy (one row, id 1), changed by admins and audited. */
export const securitySettings = pgTable(
  "security_settings",
  {
    id: integer("id").primaryKey().default(1),
    /** Staff who sign in with a password must use a second factor (and enrol one at sign-in). */
    requireSecondFactor: boolean("require_second_factor").notNull().default(false),
    /** Actions on production data need a session signed in with a second factor or SSO. */
    productionNeedsStrongAuth: boolean("production_needs_strong_auth").notNull().default(false),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedBy: text("updated_by"),
  },
  (t) => [check("security_settings_one_row", sql`${t.id} = 1`)],
);
export type SecuritySettings = typeof securitySettings.$inferSelect;

/**
 * Rate-limit buckets shared by every instance (sign-in attempts per account and address, failed
 * API-key and token-grant attempts per address, device logins...), lib/rate-limit. One row per key;
 * the same UPSERT checks, counts and restarts an expired window. Keys never hold what a client
 * typed (hashed or an id); rows are deleted by a sweeper once expired.
 */
export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
  count: integer("count").notNull(),
  /** Refuses every attempt until then. */
  blockedUntil: timestamp("blocked_until", { withTimezone: true, mode: "date" }),
  /** The bucket is forgotten (and swept) after this. */
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

// ---------------------------------------------------------------------------------------------
// Audit log: append-only, tamper-evident through per-row HMACs plus batch seals (see lib/audit)
// ---------------------------------------------------------------------------------------------

export const auditEvents = pgTable(
  "audit_events",
  {
    /** UUIDv7 chosen by the writer, so it is part of the row's HMAC and sorts by time. */
    id: uuid("id").primaryKey(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date" }).notNull(),
    /**
     * The writing transaction's id. Seals cover every row whose transaction ended before the seal,
     * by xid range, which is what lets writers append concurrently without a chain head.
     */
    txid: bigint("txid", { mode: "bigint" }).notNull().default(sql`(pg_current_xact_id()::text)::bigint`),
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    actorName: text("actor_name"),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    environment: text("environment"),
    outcome: text("outcome", { enum: ["success", "failure", "denied"] }).notNull(),
    reason: text("reason"),
    requestId: text("request_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    rowHmac: text("row_hmac").notNull(),
    /**
     * The webhook event this change sends, if any (lib/webhooks/outbox.ts): written with the audit
     * row, so in the change's transaction; fanned out to the endpoints' deliveries after commit.
     * Part of the row's HMAC when set. Nullable with no default, so adding it (0014) rewrote nothing.
     */
    webhook: jsonb("webhook").$type<AuditWebhook>(),
  },
  (t) => [
    index("audit_events_time_idx").on(t.occurredAt.desc(), t.id.desc()),
    index("audit_events_action_time_idx").on(t.action, t.occurredAt.desc(), t.id.desc()),
    index("audit_events_actor_time_idx").on(t.actorId, t.occurredAt.desc(), t.id.desc()),
    index("audit_events_target_time_idx").on(t.targetType, t.targetId, t.occurredAt.desc(), t.id.desc()),
    index("audit_events_txid_idx").on(t.txid),
    // Failures and denials in time order (the console's Outcome filter): partial, so the ~97 % of
    // events that succeed cost an insert nothing here; queries repeat `outcome <> 'success'`.
    index("audit_events_problem_time_idx").on(t.occurredAt.desc(), t.id.desc()).where(sql`outcome <> 'success'`),
    // Events naming an API key / a user only in details (migrations, installations, IDV, reuse):
    // partial, so only the few events carrying the key are indexed; queries must repeat the
    // `details ? '…'` predicate for the planner to match it (lib/audit/query.ts, lib/users/timeline.ts).
    index("audit_events_detail_api_key_time_idx").on(sql`(${t.details}->>'apiKeyId')`, t.occurredAt.desc(), t.id.desc()).where(sql`details ? 'apiKeyId'`),
    index("audit_events_detail_user_time_idx").on(sql`(${t.details}->>'userId')`, t.occurredAt.desc(), t.id.desc()).where(sql`details ? 'userId'`),
  ],
);
export type AuditEventRow = typeof auditEvents.$inferSelect;
/** `audit_events.webhook`: what the fan-out needs to write the same delivery for every endpoint. */
export interface AuditWebhook {
  /** The event type (lib/webhooks/events.ts). */
  type: string;
  /** The Standard Webhooks `webhook-id`, fixed at write time: every endpoint and every retry sends it. */
  messageId: string;
  /** The exact JSON body that is signed and sent. */
  body: string;
}

export const auditSeals = pgTable("audit_seals", {
  /**
   * 1, 2, 3... without gaps: the sealer sets previous + 1 under its advisory lock and moves the
   * sequence along with it (a release before this one still seals through the default).
   */
  seq: bigserial("seq", { mode: "number" }).primaryKey(),
  /** The seal covers rows with fromTxid <= txid < toTxid. */
  fromTxid: bigint("from_txid", { mode: "bigint" }).notNull(),
  toTxid: bigint("to_txid", { mode: "bigint" }).notNull(),
  rowCount: integer("row_count").notNull(),
  firstEventId: uuid("first_event_id"),
  lastEventId: uuid("last_event_id"),
  /** The covered events' ids, 16 bytes each in id order: lets verify name a deleted row exactly. */
  eventIds: bytea("event_ids").notNull(),
  /** HMAC over the previous seal's digest and every covered row's (id, row HMAC), in id order. */
  digest: text("digest").notNull(),
  sealedAt: createdAt(),
});

/**
 * Activity per day for the overview's charts (lib/overview/activity.ts): counted from the audit log
 * and the token tables by a background job, so a chart reads a few hundred rows whatever the size of
 * the log. `activityDays` says which days are counted, and whether for good.
 */
export const activityDaily = pgTable(
  "activity_daily",
  {
    day: text("day").notNull(),
    environment: text("environment").notNull(),
    metric: text("metric").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.environment, t.metric] })],
);

export const activityDays = pgTable("activity_days", {
  /** YYYY-MM-DD, UTC. */
  day: text("day").primaryKey(),
  /** The day had ended (by an hour) when it was counted: it is never counted again. */
  final: boolean("final").notNull().default(false),
  countedAt: timestamp("counted_at", { withTimezone: true, mode: "date" }).notNull(),
});

// ---------------------------------------------------------------------------------------------
// The deployment, environments, Team API keys, users (Junction-style)
// ---------------------------------------------------------------------------------------------

/**
 * The deployment itself, one row: its team id is Junction's `team_id` on every user, stable for the
 * life of the database. The migration that created the table inserts the row, so the id is drawn
 * at first start (lib/settings/deployment.ts puts it back if the table was emptied).
 */
export const deployment = pgTable(
  "deployment",
  {
    id: integer("id").primaryKey().default(1),
    teamId: uuid("team_id").notNull().default(sql`gen_random_uuid()`),
    createdAt: createdAt(),
  },
  (t) => [check("deployment_one_row", sql`${t.id} = 1`)],
);

/** Per-environment token lifetimes, editable by admins (lib/settings). */
export const environmentSettings = pgTable("environment_settings", {
  environment: text("environment", { enum: ["sandbox", "production"] }).primaryKey(),
  signInTokenTtlSeconds: integer("sign_in_token_ttl_seconds").notNull().default(600),
  accessTokenTtlSeconds: integer("access_token_ttl_seconds").notNull().default(3600),
  refreshAbsoluteTtlSeconds: integer("refresh_absolute_ttl_seconds")
    .notNull()
    .default(365 * 24 * 3600),
  refreshGraceSeconds: integer("refresh_grace_seconds").notNull().default(10),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedBy: text("updated_by"),
});
export type EnvironmentSettings = typeof environmentSettings.$inferSelect;

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey(),
    name: text("name").notNull(),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    region: text("region").notNull(),
    scopes: text("scopes").array().notNull(),
    /** The first characters of the key (e.g. `sk_us_3Fa9`), shown in lists and audit events. */
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    createdBy: text("created_by"),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    revokedBy: text("revoked_by"),
    revokeReason: text("revoke_reason"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_keys_key_hash_key").on(t.keyHash)],
);
export type ApiKey = typeof apiKeys.$inferSelect;

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey(),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    region: text("region").notNull(),
    clientUserId: text("client_user_id").notNull(),
    email: text("email"),
    name: text("name"),
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
    createdByKeyId: uuid("created_by_key_id"),
    createdAt: createdAt(),
  },
  (t) => [
    // A client user id names one live user per environment and region; a deleted user frees it.
    uniqueIndex("users_client_user_id_key").on(t.environment, t.region, t.clientUserId).where(sql`deleted_at is null`),
    index("users_created_idx").on(t.createdAt.desc(), t.id.desc()),
    // Junction's list (GET /v2/user?offset&limit): one environment and region, live users, newest first.
    index("users_list_idx").on(t.environment, t.region, t.createdAt.desc(), t.id.desc()).where(sql`deleted_at is null`),
    index("users_client_user_id_prefix_idx").on(sql`lower(client_user_id) text_pattern_ops`),
    index("users_email_prefix_idx").on(sql`lower(email) text_pattern_ops`),
    index("users_name_prefix_idx").on(sql`lower(name) text_pattern_ops`),
    index("users_search_trgm_idx").using(
      "gin",
      sql`(lower(client_user_id) || ' ' || coalesce(lower(email), '') || ' ' || coalesce(lower(name), '')) gin_trgm_ops`,
    ),
  ],
);
export type User = typeof users.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Sign-in tokens, SDK sessions (refresh-token families), signing keys
// ---------------------------------------------------------------------------------------------

export const signInTokens = pgTable(
  "sign_in_tokens",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    region: text("region").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    /** `api_key` or `staff`, and which one. */
    issuedByType: text("issued_by_type").notNull(),
    issuedById: text("issued_by_id"),
    reason: text("reason"),
    /** Set by the one atomic UPDATE that redeems the token; never cleared. */
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    sessionId: uuid("session_id"),
    /** Taken back before use (staff with a reason, or an API key): redemption refuses it. */
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    revokedByType: text("revoked_by_type"),
    revokedById: text("revoked_by_id"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("sign_in_tokens_hash_key").on(t.tokenHash),
    index("sign_in_tokens_user_idx").on(t.userId, t.createdAt.desc()),
    // "What I issued lately" on the overview: one staff member's (or key's) newest tokens.
    index("sign_in_tokens_issuer_idx").on(t.issuedById, t.createdAt.desc()),
  ],
);
export type SignInToken = typeof signInTokens.$inferSelect;

/** One SDK installation signed in as one user: a refresh-token family (`sid` in access tokens). */
export const sdkSessions = pgTable(
  "sdk_sessions",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    region: text("region").notNull(),
    installationId: text("installation_id"),
    signInTokenId: uuid("sign_in_token_id"),
    /** Set when this session replaced an API-key installation (migration). */
    migratedFromKeyId: uuid("migrated_from_key_id"),
    lastRefreshAt: timestamp("last_refresh_at", { withTimezone: true, mode: "date" }),
    /**
     * Where the session was first used (the exchange) and last used (the latest refresh): the
     * client's IP as the audit log records it (only from a trusted proxy's header) and its
     * User-Agent (at most 512 characters). Written by the statements the exchange and the refresh
     * already run; the latest pair stays null until the first refresh.
     */
    firstIp: text("first_ip"),
    firstUserAgent: text("first_user_agent"),
    lastIp: text("last_ip"),
    lastUserAgent: text("last_user_agent"),
    /** Absolute end of the family, whatever the refreshes. */
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    revokeReason: text("revoke_reason"),
    createdAt: createdAt(),
  },
  (t) => [index("sdk_sessions_user_idx").on(t.userId, t.createdAt.desc())],
);
export type SdkSession = typeof sdkSessions.$inferSelect;

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: uuid("id").primaryKey(),
    sessionId: uuid("session_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** Set when the token was used (rotated); it is then accepted again only until graceUntil. */
    rotatedAt: timestamp("rotated_at", { withTimezone: true, mode: "date" }),
    graceUntil: timestamp("grace_until", { withTimezone: true, mode: "date" }),
    /** The token this one's rotation issued (the newest, when a retry inside the grace window replaced it). */
    successorId: uuid("successor_id"),
    /** Set when a retry of the previous token inside its grace window replaced this one: it is dead, and presenting it is reuse. */
    replacedAt: timestamp("replaced_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("refresh_tokens_hash_key").on(t.tokenHash), index("refresh_tokens_session_idx").on(t.sessionId)],
);
export type RefreshToken = typeof refreshTokens.$inferSelect;

/** Access tokens revoked one by one (RFC 7009) before they expire; swept after expiry. */
export const revokedAccessTokens = pgTable("revoked_access_tokens", {
  jti: text("jti").primaryKey(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
});

/** JWT signing keys (ES256). The private JWK is encrypted (AES-256-GCM) with TOKENDESK_SECRET. */
export const signingKeys = pgTable("signing_keys", {
  kid: text("kid").primaryKey(),
  alg: text("alg").notNull(),
  publicJwk: jsonb("public_jwk").$type<Record<string, unknown>>().notNull(),
  privateJwkEncrypted: text("private_jwk_encrypted").notNull(),
  /** `current` signs; `previous` still verifies until retireAfter; `retired` is gone from the JWKS. */
  status: text("status", { enum: ["current", "previous", "retired"] }).notNull(),
  retireAfter: timestamp("retire_after", { withTimezone: true, mode: "date" }),
  createdAt: createdAt(),
});
export type SigningKey = typeof signingKeys.$inferSelect;

/** SDK installations seen calling in API-key mode (X-Installation-Id), and their migration. */
export const apiKeyInstallations = pgTable(
  "api_key_installations",
  {
    apiKeyId: uuid("api_key_id").notNull(),
    userId: uuid("user_id").notNull(),
    installationId: text("installation_id").notNull(),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date" }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date" }).notNull(),
    migratedAt: timestamp("migrated_at", { withTimezone: true, mode: "date" }),
    migratedSessionId: uuid("migrated_session_id"),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.userId, t.installationId] }), index("api_key_installations_seen_idx").on(t.apiKeyId, t.lastSeenAt.desc())],
);

// ---------------------------------------------------------------------------------------------
// IDV handoff: workflows, ephemeral tokens, sessions and their captured steps
// ---------------------------------------------------------------------------------------------

export interface WorkflowStep {
  id: string;
  type: "document" | "selfie" | "form";
  label: string;
  /** For `form` steps. */
  fields?: Array<{ name: string; label: string; type: "text" | "date" | "email"; required: boolean; pattern?: string }>;
}

export const workflows = pgTable("workflows", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  steps: jsonb("steps").$type<WorkflowStep[]>().notNull(),
  archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }),
  createdAt: createdAt(),
});
export type Workflow = typeof workflows.$inferSelect;

export const ephemeralTokens = pgTable(
  "ephemeral_tokens",
  {
    id: uuid("id").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    region: text("region").notNull(),
    /** `api_key` or `staff`, and which one. */
    issuedByType: text("issued_by_type").notNull(),
    issuedById: text("issued_by_id"),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    /** The one session this token started (unique: one token, one session). */
    sessionId: uuid("session_id"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("ephemeral_tokens_hash_key").on(t.tokenHash), uniqueIndex("ephemeral_tokens_session_key").on(t.sessionId)],
);

export const idvSessions = pgTable(
  "idv_sessions",
  {
    id: uuid("id").primaryKey(),
    workflowId: text("workflow_id").notNull(),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    region: text("region").notNull(),
    status: text("status", { enum: ["created", "in_progress", "submitted", "expired", "cancelled"] }).notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    externalUserId: text("external_user_id"),
    userId: uuid("user_id"),
    locale: text("locale"),
    /** Code of the short link /h/<code>. */
    shortCode: text("short_code").notNull(),
    issuedByType: text("issued_by_type").notNull(),
    issuedById: text("issued_by_id"),
    reason: text("reason"),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    submittedAt: timestamp("submitted_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("idv_sessions_short_code_key").on(t.shortCode),
    index("idv_sessions_created_idx").on(t.createdAt.desc(), t.id.desc()),
    index("idv_sessions_status_expiry_idx").on(t.status, t.expiresAt),
    index("idv_sessions_user_idx").on(t.userId),
    index("idv_sessions_issuer_idx").on(t.issuedById, t.createdAt.desc()),
  ],
);
export type IdvSession = typeof idvSessions.$inferSelect;

export const idvSessionSteps = pgTable(
  "idv_session_steps",
  {
    sessionId: uuid("session_id").notNull(),
    stepId: text("step_id").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    imageContentType: text("image_content_type"),
    image: bytea("image"),
    submittedAt: timestamp("submitted_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.stepId] })],
);

// ---------------------------------------------------------------------------------------------
// Telematics: instances, devices (DeviceTokens) and their refresh tokens
// ---------------------------------------------------------------------------------------------

export const instances = pgTable("instances", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
  keyHash: text("key_hash").notNull(),
  jwtTtlSeconds: integer("jwt_ttl_seconds").notNull().default(86_400),
  refreshTtlSeconds: integer("refresh_ttl_seconds")
    .notNull()
    .default(90 * 86_400),
  /** How long a used refresh token is still accepted, as a retry that replaces its successor. */
  refreshGraceSeconds: integer("refresh_grace_seconds").notNull().default(10),
  createdBy: text("created_by"),
  createdAt: createdAt(),
});
export type Instance = typeof instances.$inferSelect;

export const devices = pgTable(
  "devices",
  {
    id: uuid("id").primaryKey(),
    instanceId: uuid("instance_id").notNull(),
    /** The DeviceToken is a bearer credential at login: stored hashed, found by hash. */
    deviceTokenHash: text("device_token_hash").notNull(),
    deviceTokenPrefix: text("device_token_prefix").notNull(),
    clientId: text("client_id"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    nickname: text("nickname"),
    phone: text("phone"),
    email: text("email"),
    customToken: text("custom_token"),
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("devices_token_hash_key").on(t.deviceTokenHash),
    index("devices_client_id_idx").on(t.clientId),
    index("devices_created_idx").on(t.createdAt.desc(), t.id.desc()),
    // Console search (lib/devices/console.ts) matches lower-cased prefixes; text_pattern_ops lets
    // `like 'abc%'` use these indexes whatever the database collation.
    index("devices_client_id_prefix_idx").on(sql`lower(client_id) text_pattern_ops`),
    index("devices_email_prefix_idx").on(sql`lower(email) text_pattern_ops`),
    index("devices_first_name_prefix_idx").on(sql`lower(first_name) text_pattern_ops`),
    index("devices_last_name_prefix_idx").on(sql`lower(last_name) text_pattern_ops`),
    index("devices_nickname_prefix_idx").on(sql`lower(nickname) text_pattern_ops`),
    index("devices_token_prefix_idx").on(t.deviceTokenPrefix),
  ],
);
export type Device = typeof devices.$inferSelect;

export const deviceRefreshTokens = pgTable(
  "device_refresh_tokens",
  {
    id: uuid("id").primaryKey(),
    deviceId: uuid("device_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    /** After use, the token is accepted until then as a retry that replaces its successor. */
    graceUntil: timestamp("grace_until", { withTimezone: true, mode: "date" }),
    successorId: uuid("successor_id"),
    /** Set when a retry of the previous token replaced this one: presenting it is reuse. */
    replacedAt: timestamp("replaced_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("device_refresh_tokens_hash_key").on(t.tokenHash), index("device_refresh_tokens_device_idx").on(t.deviceId)],
);

// ---------------------------------------------------------------------------------------------
// Retention (lib/janitor): what is kept how long, per environment, and the audit log's archives
// ---------------------------------------------------------------------------------------------

/** Per-environment retention in days, editable by admins; a missing row means the defaults. */
export const retentionSettings = pgTable("retention_settings", {
  environment: text("environment", { enum: ["sandbox", "production"] }).primaryKey(),
  /** Sign-in tokens, this long after they were redeemed or expired. */
  signInTokensDays: integer("sign_in_tokens_days").notNull().default(7),
  /** SDK sessions and their refresh tokens, this long after they were revoked or reached their end. */
  endedSessionsDays: integer("ended_sessions_days").notNull().default(30),
  /** What an IDV session captured (form values, photos), this long after it was submitted, expired or cancelled. */
  idvCapturedDays: integer("idv_captured_days").notNull().default(30),
  /** Device refresh tokens, this long after they were used, revoked or expired. */
  deviceRefreshTokensDays: integer("device_refresh_tokens_days").notNull().default(30),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedBy: text("updated_by"),
});
export type RetentionSettings = typeof retentionSettings.$inferSelect;

/**
 * One row per archive run of the audit log: seals fromSeal..toSeal and their events were written to
 * `file` (NDJSON, sha256) and deleted. `audit verify` continues the chain from the newest row's
 * `lastDigest`/`toTxid`; `hmac` (keyed by TOKENDESK_SECRET) stops anyone forging a checkpoint to hide
 * deleted events.
 */
export const auditArchives = pgTable("audit_archives", {
  seq: bigserial("seq", { mode: "number" }).primaryKey(),
  fromSeal: bigint("from_seal", { mode: "number" }).notNull(),
  toSeal: bigint("to_seal", { mode: "number" }).notNull(),
  toTxid: bigint("to_txid", { mode: "bigint" }).notNull(),
  lastDigest: text("last_digest").notNull(),
  eventCount: integer("event_count").notNull(),
  file: text("file").notNull(),
  sha256: text("sha256").notNull(),
  hmac: text("hmac").notNull(),
  archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
export type AuditArchive = typeof auditArchives.$inferSelect;
// Webhooks (Standard Webhooks): endpoints, and the outbox of deliveries (lib/webhooks)
// ---------------------------------------------------------------------------------------------

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey(),
    url: text("url").notNull(),
    description: text("description"),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    /** The event types this endpoint receives (lib/webhooks/events.ts). */
    eventTypes: text("event_types").array().notNull(),
    /** The `whsec_…` signing secret, AES-256-GCM under a key derived from TOKENDESK_SECRET. */
    secretEncrypted: text("secret_encrypted").notNull(),
    /** After a rotation the previous secret signs too, until previousSecretExpiresAt (the overlap). */
    previousSecretEncrypted: text("previous_secret_encrypted"),
    previousSecretExpiresAt: timestamp("previous_secret_expires_at", { withTimezone: true, mode: "date" }),
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
    /** `staff` (by hand) or `failing` (the dispatcher, after a day of failed deliveries). */
    disabledReason: text("disabled_reason", { enum: ["staff", "failing"] }),
    /** When the first failed attempt since the last success was made; cleared by a success. */
    failingSince: timestamp("failing_since", { withTimezone: true, mode: "date" }),
    lastSuccessAt: timestamp("last_success_at", { withTimezone: true, mode: "date" }),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /**
     * The creating transaction's id (as `audit_events.txid`): the fan-out gives the endpoint the
     * events of transactions that got their id after this one did (lib/webhooks/outbox.ts), which no
     * clock decides. Endpoints older than 0017 hold 0 (everything the fan-out has not passed yet).
     */
    createdTxid: bigint("created_txid", { mode: "bigint" }).notNull().default(sql`(pg_current_xact_id()::text)::bigint`),
  },
  (t) => [index("webhook_endpoints_environment_idx").on(t.environment)],
);
export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;

/**
 * The outbox: one row per (event, endpoint), inserted in the transaction of the change that caused
 * the event, so a rolled-back change sends nothing and a committed one is never lost. The
 * dispatcher claims due rows with `FOR UPDATE SKIP LOCKED` and moves `next_attempt_at` ahead as a
 * lease while it delivers; `attempts` is bumped by each claim, so a late result of an earlier claim
 * cannot overwrite a newer one.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    /** `webhook-id`: one per event (every endpoint gets the same), the same on every retry. */
    messageId: text("message_id").notNull(),
    endpointId: uuid("endpoint_id").notNull(),
    eventType: text("event_type").notNull(),
    environment: text("environment", { enum: ["sandbox", "production"] }).notNull(),
    /** The exact JSON body that is signed and sent. */
    body: text("body").notNull(),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** When the next attempt is due; while an attempt runs, the end of its lease. Null once final. */
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }),
    /** Failed attempts are retried until here (a day after the event, or after a replay). */
    retryUntil: timestamp("retry_until", { withTimezone: true, mode: "date" }).notNull(),
    /** When the first attempt (since the event or the last replay) was claimed. */
    firstAttemptAt: timestamp("first_attempt_at", { withTimezone: true, mode: "date" }),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true, mode: "date" }),
    lastResponseStatus: integer("last_response_status"),
    lastError: text("last_error"),
    lastDurationMs: integer("last_duration_ms"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt.desc(), t.id.desc()),
    // No unique (message_id, endpoint_id): no query reads it, and the outbox INSERT cannot break it
    // (a fresh message id per event, fanned out to distinct endpoints); an index entry fewer per
    // delivery written and per status change (0012).
    index("webhook_deliveries_done_idx").on(t.createdAt).where(sql`status <> 'pending'`),
  ],
);
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;

/**
 * How far the fan-out (lib/webhooks/outbox.ts) has turned audit rows' webhook events into
 * deliveries: every audit row with txid below `to_txid` has been fanned out. One row; 0014 starts
 * it at the migrating transaction's id, so the rows written before it (which carry no event) are
 * never walked.
 */
export const webhookFanoutCursor = pgTable(
  "webhook_fanout_cursor",
  {
    id: integer("id").primaryKey().default(1),
    toTxid: bigint("to_txid", { mode: "bigint" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [check("webhook_fanout_cursor_one_row", sql`${t.id} = 1`)],
);

/**
 * After a restore into another cluster (lib/webhooks/outbox.ts): the audit rows that came with the
 * restore and carry a webhook event, at or above the point the fan-out restarted from. Their txids
 * are the old cluster's and new transactions will take the same numbers; the fan-out skips these rows
 * (delivered in the old cluster, or fanned out when the restore was noticed) and forgets each entry
 * once it has passed its txid. Empty but for the walk after a restore (0018).
 */
export const webhookFanoutRestored = pgTable(
  "webhook_fanout_restored",
  {
    txid: bigint("txid", { mode: "bigint" }).notNull(),
    auditId: uuid("audit_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.txid, t.auditId] })],
);
