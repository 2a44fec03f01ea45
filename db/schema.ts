/**
 * The one database schema of tokendesk (drizzle, Postgres dialect). Runs unchanged on embedded
 * PGlite and on PostgreSQL. Secrets never live here in the clear: tokens and keys are stored as
 * SHA-256/HMAC digests, passwords as argon2id hashes, signing keys encrypted with TOKENDESK_SECRET.
 */
import { sql } from "drizzle-orm";
import {
  customType,
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
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
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("staff_email_key").on(t.email), uniqueIndex("staff_oidc_subject_key").on(t.oidcSubject)],
);
export type Staff = typeof staff.$inferSelect;
export type NewStaff = typeof staff.$inferInsert;

/**
 * Fixed-window counters shared by every instance (failed sign-ins per account and per IP, device
 * logins...). One row per key; the window restarts in the same UPSERT that counts.
 */
export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
  count: integer("count").notNull(),
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
    txid: bigint("txid", { mode: "bigint" })
      .notNull()
      .default(sql`(pg_current_xact_id()::text)::bigint`),
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
  },
  (t) => [
    index("audit_events_time_idx").on(t.occurredAt.desc(), t.id.desc()),
    index("audit_events_action_time_idx").on(t.action, t.occurredAt.desc(), t.id.desc()),
    index("audit_events_actor_time_idx").on(t.actorId, t.occurredAt.desc(), t.id.desc()),
    index("audit_events_target_time_idx").on(t.targetType, t.targetId, t.occurredAt.desc(), t.id.desc()),
    index("audit_events_txid_idx").on(t.txid),
  ],
);
export type AuditEventRow = typeof auditEvents.$inferSelect;

export const auditSeals = pgTable("audit_seals", {
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
