/**
 * Activity per day, for the overview's charts: sign-ins, refreshes, sign-in tokens issued, IDV
 * handoffs, failures, refresh-token reuse and migrations, per environment.
 *
 * Counting these from the audit log on each visit would read every event of the period — 3.3M rows
 * for 30 days at 10M events over 90 days — so a background job (lib/sweepers.ts) counts each day
 * into `activity_daily` and the charts read a few hundred rows. A day is recounted while it can
 * still change (today, and yesterday until an hour after midnight UTC) and then kept for good; the
 * first run after an upgrade counts the whole window back. Refreshes are not audit events: they are
 * the refresh tokens a day created (their ids are UUIDv7, so a day is a range of the primary key)
 * less the sessions it started (each starts with one).
 */
import { sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { queryRows } from "@/db/client";
import type { Actor } from "@/lib/context";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";

export const ACTIVITY_METRICS = ["signIns", "refreshes", "tokensIssued", "handoffs", "failures", "reuse", "migrations"] as const;
export type ActivityMetric = (typeof ACTIVITY_METRICS)[number];

/** The audit actions each metric counts (failures: any action whose outcome is not success). */
const ACTION_METRIC: Record<string, ActivityMetric> = {
  "sign_in_token.redeemed": "signIns",
  "sign_in_token.issued": "tokensIssued",
  "ephemeral_token.minted": "handoffs",
  "refresh_token.reuse_detected": "reuse",
  "migration.completed": "migrations",
};

/** How far back the charts reach, and so how far back the job counts. */
export const ACTIVITY_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;
/** A day is final once it ended this long ago (a transaction that began before midnight has committed by then). */
const SETTLE_MS = 3_600_000;
const ROLLUP_LOCK = 0x746b6163; // "tkac": one counter at a time across instances

export const dayOf = (d: Date) => d.toISOString().slice(0, 10);
const startOf = (day: string) => new Date(`${day}T00:00:00.000Z`);

/** The smallest UUIDv7 of millisecond `ms`: `id >= uuidv7Floor(t)` is a range of a UUIDv7 key. */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** Counts one UTC day: every metric per environment (`''` for events without one). */
export async function countDay(db: Executor, day: string): Promise<Array<{ environment: string; metric: ActivityMetric; n: number }>> {
  const lo = startOf(day);
  const hi = new Date(lo.getTime() + DAY_MS);
  const [events, refreshes] = await Promise.all([
    // The (occurred_at, id) index bounds the day; the heap gives action, outcome and environment.
    queryRows<{ environment: string | null; action: string; failed: boolean; n: number | string }>(
      db,
      sql`select environment, action, outcome <> 'success' as failed, count(*) as n from audit_events
          where occurred_at >= ${lo.toISOString()}::timestamptz and occurred_at < ${hi.toISOString()}::timestamptz
          group by 1, 2, 3`,
    ),
    queryRows<{ environment: string; tokens: number | string; sessions: number | string }>(
      db,
      sql`with t as (select s.environment, count(*) as n from refresh_tokens r join sdk_sessions s on s.id = r.session_id
                     where r.id >= ${uuidv7Floor(lo.getTime())}::uuid and r.id < ${uuidv7Floor(hi.getTime())}::uuid group by 1),
               s as (select environment, count(*) as n from sdk_sessions
                     where id >= ${uuidv7Floor(lo.getTime())}::uuid and id < ${uuidv7Floor(hi.getTime())}::uuid group by 1)
          select coalesce(t.environment, s.environment) as environment, coalesce(t.n, 0) as tokens, coalesce(s.n, 0) as sessions
          from t full join s on s.environment = t.environment`,
    ),
  ]);
  const sums = new Map<string, number>();
  const add = (environment: string, metric: ActivityMetric, n: number) => {
    const k = `${environment}\u0000${metric}`;
    sums.set(k, (sums.get(k) ?? 0) + n);
  };
  for (const e of events) {
    const env = e.environment ?? "";
    const metric = ACTION_METRIC[e.action];
    if (metric && !e.failed) add(env, metric, Number(e.n));
    if (e.failed) add(env, "failures", Number(e.n));
  }
  for (const r of refreshes) add(r.environment, "refreshes", Math.max(0, Number(r.tokens) - Number(r.sessions)));
  return [...sums].map(([k, n]) => {
    const [environment, metric] = k.split("\u0000") as [string, ActivityMetric];
    return { environment, metric, n };
  });
}

/**
 * The job: counts every day of the window not yet final. Returns the days it counted (none when
 * another instance holds the lock).
 */
export async function rollUpActivity(db: Database, now = new Date()): Promise<string[]> {
  return db.transaction(async (tx) => {
    const [lock] = await queryRows<{ ok: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${ROLLUP_LOCK}) as ok`);
    if (!lock?.ok) return [];
    const first = dayOf(new Date(now.getTime() - ACTIVITY_WINDOW_DAYS * DAY_MS));
    const done = new Set((await queryRows<{ day: string }>(tx, sql`select day from activity_days where final and day >= ${first}`)).map((r) => r.day));
    const counted: string[] = [];
    for (let t = startOf(first).getTime(); t <= now.getTime(); t += DAY_MS) {
      const day = dayOf(new Date(t));
      if (done.has(day)) continue;
      const rows = await countDay(tx, day);
      const final = t + DAY_MS + SETTLE_MS <= now.getTime();
      await queryRows(tx, sql`delete from activity_daily where day = ${day}`);
      if (rows.length) {
        await queryRows(
          tx,
          sql`insert into activity_daily (day, environment, metric, n) values ${sql.join(
            rows.map((r) => sql`(${day}, ${r.environment}, ${r.metric}, ${r.n})`),
            sql`, `,
          )}`,
        );
      }
      await queryRows(
        tx,
        sql`insert into activity_days (day, final, counted_at) values (${day}, ${final}, ${now.toISOString()}::timestamptz)
            on conflict (day) do update set final = excluded.final, counted_at = excluded.counted_at`,
      );
      counted.push(day);
    }
    // Days that fell out of the window are of no chart's concern any more.
    await queryRows(tx, sql`delete from activity_daily where day < ${first}`);
    await queryRows(tx, sql`delete from activity_days where day < ${first}`);
    return counted;
  });
}

export interface ActivityDay extends Record<ActivityMetric, number> {
  day: string;
}

export interface ActivitySeries {
  days: ActivityDay[];
  /** When today's figures were counted (they trail by up to the job's interval), or null before the first count. */
  countedAt: Date | null;
}

/**
 * The last `days` days (today included), one entry per day, summed over the environments the
 * actor may see (QA: sandbox only; events of no environment count for roles that see all).
 */
export async function activitySeries(db: Executor, actor: Actor, days: 7 | 30, now = new Date()): Promise<ActivitySeries> {
  assertStaffCan(actor, "audit:read");
  const envs: string[] = actor.type === "staff" ? visibleEnvironments(actor.role) : ["sandbox", "production"];
  if (envs.length > 1) envs.push("");
  const first = dayOf(new Date(now.getTime() - (days - 1) * DAY_MS));
  const [rows, counted] = await Promise.all([
    queryRows<{ day: string; metric: ActivityMetric; n: number | string }>(
      db,
      sql`select day, metric, sum(n) as n from activity_daily
          where day >= ${first} and environment in (${sql.join(
            envs.map((e) => sql`${e}`),
            sql`, `,
          )})
          group by 1, 2`,
    ),
    queryRows<{ counted_at: string | Date }>(db, sql`select counted_at from activity_days where day = ${dayOf(now)}`),
  ]);
  const byDay = new Map<string, ActivityDay>();
  for (let i = days - 1; i >= 0; i--) {
    const day = dayOf(new Date(now.getTime() - i * DAY_MS));
    byDay.set(day, { day, signIns: 0, refreshes: 0, tokensIssued: 0, handoffs: 0, failures: 0, reuse: 0, migrations: 0 });
  }
  for (const r of rows) {
    const d = byDay.get(r.day);
    if (d && (ACTIVITY_METRICS as readonly string[]).includes(r.metric)) d[r.metric] = Number(r.n);
  }
  return { days: [...byDay.values()], countedAt: counted[0] ? new Date(counted[0].counted_at) : null };
}
