/**
 * The overview page, per role: support and QA see what they issued lately and its state and the
 * handoffs still in progress; managers (auditors) see activity per day, the migration's progress
 * and refresh-token reuse; admins also see keys by last use and the audit log's seal status. Every
 * query here reads an index for a bounded number of rows, whatever the size of the tables (measured
 * at 1M users / 10M audit events by `npm run bench:scale`).
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import type { Actor } from "@/lib/context";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";

export { ACTIVITY_METRICS, type ActivityDay, type ActivityMetric, type ActivitySeries, activitySeries, rollUpActivity } from "./activity";

const envsOf = (actor: Actor) => (actor.type === "staff" ? visibleEnvironments(actor.role) : ["sandbox", "production"]);
const envList = (actor: Actor) =>
  sql.join(
    envsOf(actor).map((e) => sql`${e}`),
    sql`, `,
  );
const date = (v: unknown) => (v ? new Date(v as string) : null);

export interface IssuedByMe {
  kind: "sign_in_token" | "handoff";
  id: string;
  createdAt: Date;
  expiresAt: Date;
  /** pending / redeemed / expired / revoked for tokens; the handoff's status for handoffs. */
  state: string;
  /** Whom it was for: the user's client user id, or the handoff's external user id. */
  forWhom: string | null;
  userId: string | null;
}

/** The newest sign-in tokens and handoffs the actor issued (by the issuer indexes), newest first. */
export async function issuedByMe(db: Executor, actor: Actor, limit = 8, now = new Date()): Promise<IssuedByMe[]> {
  assertStaffCan(actor, "users:issue_tokens");
  if (actor.type !== "staff") return [];
  const [tokens, handoffs] = await Promise.all([
    queryRows<Record<string, unknown>>(
      db,
      sql`select t.id, t.created_at, t.expires_at, t.used_at, t.revoked_at, t.user_id, u.client_user_id
          from (select * from sign_in_tokens where issued_by_id = ${actor.id} order by issued_by_id, created_at desc nulls last limit ${limit}) t
          left join users u on u.id = t.user_id`,
    ),
    queryRows<Record<string, unknown>>(
      db,
      sql`select id, created_at, expires_at, status, external_user_id, user_id
          from idv_sessions where issued_by_id = ${actor.id} order by issued_by_id, created_at desc nulls last limit ${limit}`,
    ),
  ]);
  const out: IssuedByMe[] = [
    ...tokens.map((t) => ({
      kind: "sign_in_token" as const,
      id: String(t.id),
      createdAt: date(t.created_at)!,
      expiresAt: date(t.expires_at)!,
      state: t.revoked_at ? "revoked" : t.used_at ? "redeemed" : date(t.expires_at)! <= now ? "expired" : "pending",
      forWhom: (t.client_user_id as string | null) ?? null,
      userId: String(t.user_id),
    })),
    ...handoffs.map((h) => ({
      kind: "handoff" as const,
      id: String(h.id),
      createdAt: date(h.created_at)!,
      expiresAt: date(h.expires_at)!,
      state: (h.status === "created" || h.status === "in_progress") && date(h.expires_at)! <= now ? "expired" : String(h.status),
      forWhom: (h.external_user_id as string | null) ?? null,
      userId: (h.user_id as string | null) ?? null,
    })),
  ];
  return out.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(0, limit);
}

export interface HandoffInProgress {
  id: string;
  status: "created" | "in_progress";
  environment: string;
  forWhom: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/** Handoffs still open, soonest to expire first (idv_sessions_status_expiry_idx), and how many there are (to 100). */
export async function handoffsInProgress(db: Executor, actor: Actor, limit = 8, now = new Date()): Promise<{ handoffs: HandoffInProgress[]; count: number }> {
  assertStaffCan(actor, "users:read");
  const at = now.toISOString();
  const open = sql`status in ('created', 'in_progress') and expires_at > ${at}::timestamptz and environment in (${envList(actor)})`;
  const [rows, [counted]] = await Promise.all([
    queryRows<Record<string, unknown>>(
      db,
      sql`select id, status, environment, external_user_id, created_at, expires_at from idv_sessions where ${open} order by expires_at limit ${limit}`,
    ),
    queryRows<{ n: number | string }>(db, sql`select count(*) as n from (select 1 from idv_sessions where ${open} limit 100) c`),
  ]);
  return {
    handoffs: rows.map((h) => ({
      id: String(h.id),
      status: h.status as "created" | "in_progress",
      environment: String(h.environment),
      forWhom: (h.external_user_id as string | null) ?? null,
      createdAt: date(h.created_at)!,
      expiresAt: date(h.expires_at)!,
    })),
    count: Number(counted?.n ?? 0),
  };
}

export interface MigrationProgress {
  /** Installations ever seen on an API key, how many moved to sign-in tokens, how many still used a key in the last 30 days. */
  seen: number;
  migrated: number;
  stillOnKeys: number;
}

/** The migration off API keys in three figures (the report has the detail). */
export async function migrationProgress(db: Executor, actor: Actor, now = new Date()): Promise<MigrationProgress> {
  assertStaffCan(actor, "migrations:read");
  const since = new Date(now.getTime() - 30 * 86_400_000).toISOString();
  const [row] = await queryRows<{ seen: number | string; migrated: number | string; still: number | string }>(
    db,
    sql`select count(*) as seen, count(*) filter (where i.migrated_at is not null) as migrated,
               count(*) filter (where i.migrated_at is null and i.last_seen_at >= ${since}::timestamptz) as still
        from api_key_installations i join api_keys k on k.id = i.api_key_id
        where k.environment in (${envList(actor)})`,
  );
  return { seen: Number(row?.seen ?? 0), migrated: Number(row?.migrated ?? 0), stillOnKeys: Number(row?.still ?? 0) };
}

export interface ReuseDetection {
  id: string;
  occurredAt: Date;
  userId: string | null;
  sessionId: string | null;
  environment: string | null;
}

/** The newest refresh-token reuse detections (audit_events_action_time_idx, newest first). */
export async function recentReuse(db: Executor, actor: Actor, limit = 5): Promise<ReuseDetection[]> {
  assertStaffCan(actor, "audit:read");
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select id, occurred_at, details->>'userId' as user_id, target_id, environment from audit_events
        where action = 'refresh_token.reuse_detected' and (environment is null or environment in (${envList(actor)}))
        order by action, occurred_at desc nulls last, id desc nulls last limit ${limit}`,
  );
  return rows.map((r) => ({
    id: String(r.id),
    occurredAt: date(r.occurred_at)!,
    userId: (r.user_id as string | null) ?? null,
    sessionId: (r.target_id as string | null) ?? null,
    environment: (r.environment as string | null) ?? null,
  }));
}

export interface KeyUse {
  id: string;
  name: string;
  prefix: string;
  environment: string;
  lastUsedAt: Date | null;
}

/** Live API keys, most recently used first (the keys table is small: a deployment has dozens). */
export async function keysByLastUse(db: Executor, actor: Actor, limit = 6): Promise<KeyUse[]> {
  assertStaffCan(actor, "api_keys:manage");
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select id, name, prefix, environment, last_used_at from api_keys where revoked_at is null
        order by last_used_at desc nulls last, created_at desc limit ${limit}`,
  );
  return rows.map((k) => ({
    id: String(k.id),
    name: String(k.name),
    prefix: String(k.prefix),
    environment: String(k.environment),
    lastUsedAt: date(k.last_used_at),
  }));
}

export interface SealStatus {
  /** Events not yet bound into a seal (the sealer runs every few seconds). */
  unsealed: number;
  newestSealAt: Date | null;
  newestSealSeq: number | null;
}

/** The audit log's seal status: the newest seal by its key, the unsealed tail by audit_events_txid_idx. */
export async function sealStatus(db: Executor, actor: Actor): Promise<SealStatus> {
  assertStaffCan(actor, "settings:manage");
  const [row] = await queryRows<{ unsealed: number | string; sealed_at: string | Date | null; seq: number | string | null }>(
    db,
    sql`with last as (select seq, to_txid, created_at as sealed_at from audit_seals order by seq desc limit 1)
        select (select count(*) from (select 1 from audit_events where txid >= coalesce((select to_txid from last), 0) limit 100000) u) as unsealed,
               (select sealed_at from last) as sealed_at, (select seq from last) as seq`,
  );
  return {
    unsealed: Number(row?.unsealed ?? 0),
    newestSealAt: date(row?.sealed_at),
    newestSealSeq: row?.seq === null || row?.seq === undefined ? null : Number(row.seq),
  };
}
