/**
 * The migration off Team API keys, as managers review it: per key, the installations seen in
 * API-key mode in a period, how many migrated to sign-in tokens, how many remain, how many
 * migrations were rejected and why, a daily series for the chart, and whether the key is safe to
 * revoke (no un-migrated installation used it recently).
 *
 * Sources: `api_key_installations` (recorded from X-Installation-Id on API-key calls, marked by a
 * successful migration) and the `migration.completed` / `migration.rejected` audit events.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { queryRows } from "@/db/client";
import type { Actor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";

/** "Still used recently": a call with the key within this many days means revoking it breaks something. */
export const RECENT_USE_DAYS = 30;

/**
 * `in_use`: un-migrated app installations used the key in the last RECENT_USE_DAYS days (revoking
 * breaks them); `recently_used`: no such installation, but something called with the key in that
 * time — a backend, most often (revoking breaks it); `safe`: no call at all in that time.
 */
export type RevokeSafety = "safe" | "recently_used" | "in_use" | "revoked";

export interface KeyMigrationSummary {
  apiKeyId: string;
  name: string;
  prefix: string;
  environment: string;
  region: string;
  revokedAt: Date | null;
  /** Installations that called with this key in the period. */
  seen: number;
  /** Of those, how many have migrated (by the end of the period). */
  migrated: number;
  /** Of those, how many have not. */
  remaining: number;
  /** `migration.completed` events in the period (an installation can migrate more than once). */
  completedEvents: number;
  /** Migration attempts refused in the period (`migration.rejected` events), and their reasons. */
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** Un-migrated installations seen in the last RECENT_USE_DAYS days (what revoking would break). */
  recentlyActiveRemaining: number;
  /** The last call of an installation with the key (migrated or not). */
  lastSeenAt: Date | null;
  /** The last call of an installation that has not migrated. */
  remainingLastSeenAt: Date | null;
  /** The last call with the key at all (backends included), to the minute. */
  lastUsedAt: Date | null;
  safety: RevokeSafety;
}

export interface MigrationReport {
  from: Date;
  to: Date;
  keys: KeyMigrationSummary[];
  /** Installations (seen, migrated, remaining) and events (completedEvents, rejected). */
  totals: { seen: number; migrated: number; remaining: number; completedEvents: number; rejected: number };
  daily: Array<{ day: string; completed: number; rejected: number }>;
}

export const reportPeriodSchema = z.object({
  from: z.coerce.date("must be a date").optional(),
  to: z.coerce.date("must be a date").optional(),
});

export function resolvePeriod(input: { from?: Date; to?: Date }, now = new Date()): { from: Date; to: Date } {
  const to = input.to ?? new Date(now.getTime() + 60_000);
  const from = input.from ?? new Date(to.getTime() - 30 * 86_400_000);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new DomainError("validation_failed", "The period's dates are not valid.");
  if (from >= to) throw new DomainError("validation_failed", "The period must start before it ends.");
  if (to.getTime() - from.getTime() > 366 * 86_400_000) throw new DomainError("validation_failed", "Choose a period of at most a year.");
  return { from, to };
}

/**
 * Per key, the un-migrated installations that used it in the last RECENT_USE_DAYS days: what
 * revoking it would break. One grouped query for any number of keys (the API keys page).
 */
export async function installationsStillUsingKeys(db: Executor, apiKeyIds: string[], now = new Date()): Promise<Map<string, number>> {
  const counts = new Map(apiKeyIds.map((id) => [id, 0]));
  if (!apiKeyIds.length) return counts;
  const since = new Date(now.getTime() - RECENT_USE_DAYS * 86_400_000);
  const rows = await queryRows<{ api_key_id: string; n: number }>(
    db,
    sql`select api_key_id, count(*)::int as n from api_key_installations
        where api_key_id in (${sql.join(
          apiKeyIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})
          and migrated_at is null and last_seen_at >= ${since.toISOString()}::timestamptz
        group by api_key_id`,
  );
  for (const r of rows) counts.set(r.api_key_id, Number(r.n));
  return counts;
}

/** The same for one key (the revocation's own re-check, in its transaction). */
export async function installationsStillUsingKey(db: Executor, apiKeyId: string, now = new Date()): Promise<number> {
  return (await installationsStillUsingKeys(db, [apiKeyId], now)).get(apiKeyId) ?? 0;
}

export async function migrationReport(
  db: Executor,
  actor: Actor,
  period: { from?: Date; to?: Date; apiKeyId?: string },
  now = new Date(),
): Promise<MigrationReport> {
  assertStaffCan(actor, "migrations:read");
  const { from, to } = resolvePeriod(period, now);
  const envs = actor.type === "staff" ? visibleEnvironments(actor.role) : ["sandbox", "production"];
  const envList = sql.join(
    envs.map((e) => sql`${e}`),
    sql`, `,
  );
  const recentSince = new Date(now.getTime() - RECENT_USE_DAYS * 86_400_000);
  // One key selected: its row, and the chart and totals of its migrations only.
  const keyFilter = period.apiKeyId ? sql`and k.id = ${period.apiKeyId}::uuid` : sql``;
  const eventKeyFilter = period.apiKeyId ? sql`and details->>'apiKeyId' = ${period.apiKeyId}` : sql``;
  const fromIso = from.toISOString();
  const toIso = to.toISOString();

  const keys = await queryRows<{
    id: string;
    name: string;
    prefix: string;
    environment: string;
    region: string;
    revoked_at: string | Date | null;
    seen: number;
    migrated: number;
    recent_remaining: number;
    last_seen_at: string | Date | null;
    remaining_last_seen_at: string | Date | null;
    last_used_at: string | Date | null;
  }>(
    db,
    sql`select k.id::text as id, k.name, k.prefix, k.environment, k.region, k.revoked_at, k.last_used_at,
          count(i.installation_id) filter (where i.last_seen_at >= ${fromIso}::timestamptz and i.first_seen_at < ${toIso}::timestamptz)::int as seen,
          count(i.installation_id) filter (where i.last_seen_at >= ${fromIso}::timestamptz and i.first_seen_at < ${toIso}::timestamptz
                                           and i.migrated_at is not null and i.migrated_at < ${toIso}::timestamptz)::int as migrated,
          count(i.installation_id) filter (where i.migrated_at is null and i.last_seen_at >= ${recentSince.toISOString()}::timestamptz)::int as recent_remaining,
          max(i.last_seen_at) as last_seen_at,
          max(i.last_seen_at) filter (where i.migrated_at is null) as remaining_last_seen_at
        from api_keys k
        left join api_key_installations i on i.api_key_id = k.id
        where k.environment in (${envList}) ${keyFilter}
        group by k.id
        order by k.revoked_at is not null, k.created_at desc`,
  );

  const outcomes = await queryRows<{ api_key_id: string | null; action: string; reason: string | null; n: number }>(
    db,
    sql`select details->>'apiKeyId' as api_key_id, action, reason, count(*)::int as n
        from audit_events
        where action in ('migration.completed', 'migration.rejected') and occurred_at >= ${fromIso}::timestamptz and occurred_at < ${toIso}::timestamptz
          and (environment is null or environment in (${envList})) ${eventKeyFilter}
        group by 1, 2, 3`,
  );
  const rejections = outcomes.filter((r) => r.action === "migration.rejected");
  const completions = outcomes.filter((r) => r.action === "migration.completed");

  const daily = await queryRows<{ day: string; completed: number; rejected: number }>(
    db,
    sql`select to_char(date_trunc('day', occurred_at at time zone 'UTC'), 'YYYY-MM-DD') as day,
          count(*) filter (where action = 'migration.completed')::int as completed,
          count(*) filter (where action = 'migration.rejected')::int as rejected
        from audit_events
        where action in ('migration.completed', 'migration.rejected')
          and occurred_at >= ${fromIso}::timestamptz and occurred_at < ${toIso}::timestamptz
          and (environment is null or environment in (${envList})) ${eventKeyFilter}
        group by 1 order by 1`,
  );

  const summaries: KeyMigrationSummary[] = keys.map((k) => {
    const byReason: Record<string, number> = {};
    for (const r of rejections) if (r.api_key_id === k.id) byReason[r.reason ?? "unknown"] = (byReason[r.reason ?? "unknown"] ?? 0) + Number(r.n);
    const rejected = Object.values(byReason).reduce((a, b) => a + b, 0);
    const seen = Number(k.seen);
    const migrated = Number(k.migrated);
    const recent = Number(k.recent_remaining);
    const lastUsedAt = k.last_used_at ? new Date(k.last_used_at) : null;
    const completedEvents = completions.filter((r) => r.api_key_id === k.id).reduce((a, r) => a + Number(r.n), 0);
    return {
      apiKeyId: k.id,
      name: k.name,
      prefix: k.prefix,
      environment: k.environment,
      region: k.region,
      revokedAt: k.revoked_at ? new Date(k.revoked_at) : null,
      seen,
      migrated,
      remaining: seen - migrated,
      completedEvents,
      rejected,
      rejectedByReason: byReason,
      recentlyActiveRemaining: recent,
      lastSeenAt: k.last_seen_at ? new Date(k.last_seen_at) : null,
      remainingLastSeenAt: k.remaining_last_seen_at ? new Date(k.remaining_last_seen_at) : null,
      lastUsedAt,
      safety: k.revoked_at ? "revoked" : recent > 0 ? "in_use" : lastUsedAt && lastUsedAt >= recentSince ? "recently_used" : "safe",
    };
  });

  const totals = { seen: 0, migrated: 0, remaining: 0, completedEvents: 0, rejected: 0 };
  for (const k of summaries) {
    totals.seen += k.seen;
    totals.migrated += k.migrated;
    totals.remaining += k.remaining;
  }
  // Events count whatever their key (a rejection names an unknown key when it was forged or
  // foreign): the totals are the events listed below, and the chart's sums.
  totals.completedEvents = completions.reduce((a, r) => a + Number(r.n), 0);
  totals.rejected = rejections.reduce((a, r) => a + Number(r.n), 0);
  return { from, to, keys: summaries, totals, daily: daily.map((d) => ({ day: d.day, completed: Number(d.completed), rejected: Number(d.rejected) })) };
}

/** Migration events only, for everyone who may read the report (support too, unlike the full log). */
export const migrationEventFilter = z.object({
  apiKeyId: z.uuid("must be an API key id").optional(),
  outcome: z.enum(["completed", "rejected"]).optional(),
});
