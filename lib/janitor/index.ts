/**
 * The retention janitor: removes what no longer needs keeping, per environment (lib/janitor/settings),
 * and — when AUDIT_RETENTION_DAYS/AUDIT_ARCHIVE_DIR are set — archives then deletes the oldest sealed
 * audit ranges. A session advisory lock makes one instance run it at a time (the others return at
 * once); deletes go in bounded batches, each its own short transaction, so a first run over a large
 * backlog never holds a long transaction (which would also hold back the audit sealer's horizon).
 * Each run that did the work is audited as `janitor.ran` with its counts.
 */
import { sql } from "drizzle-orm";
import { type Database, queryRows, withTryAdvisoryLock } from "@/db/client";
import { type ArchiveResult, archiveAuditLog } from "@/lib/audit/archive";
import { recordAudit } from "@/lib/audit/record";
import { config } from "@/lib/config/env";
import { type Actor, NO_REQUEST, type RequestMeta, systemActor } from "@/lib/context";
import { ENVIRONMENTS, type Environment } from "@/lib/environments";
import { metrics } from "@/lib/metrics";
import { sweepExpiredLimits } from "@/lib/rate-limit";
import { assertStaffCan } from "@/lib/staff/authorize";
import { getRetention } from "./settings";

export const JANITOR_LOCK = 7_404_117_003;
/** Rows per delete statement. */
const BATCH = 5_000;
const DAY_MS = 86_400_000;

export interface JanitorCounts {
  signInTokens: number;
  /** Of signInTokens: expired without being redeemed. */
  signInTokensExpiredUnused: number;
  sdkSessions: number;
  refreshTokens: number;
  idvCapturedSteps: number;
  deviceRefreshTokens: number;
  rateLimits: number;
  auditEventsArchived: number;
}

export interface JanitorReport {
  /** False when another instance held the lock: nothing was done. */
  ran: boolean;
  counts: JanitorCounts;
  perEnvironment: Record<Environment, Omit<JanitorCounts, "rateLimits" | "auditEventsArchived">>;
  archive: ArchiveResult | null;
}

const zero = (): JanitorCounts => ({
  signInTokens: 0,
  signInTokensExpiredUnused: 0,
  sdkSessions: 0,
  refreshTokens: 0,
  idvCapturedSteps: 0,
  deviceRefreshTokens: 0,
  rateLimits: 0,
  auditEventsArchived: 0,
});

/** Repeats a bounded delete until it removes less than a batch; returns the rows it returned. */
async function drain<T>(db: Database, statement: () => ReturnType<typeof sql>): Promise<T[]> {
  const all: T[] = [];
  for (;;) {
    const rows = await db.transaction((tx) => queryRows<T>(tx, statement()));
    all.push(...rows);
    if (rows.length < BATCH) return all;
  }
}

async function sweepEnvironment(db: Database, environment: Environment, now: Date) {
  const r = await getRetention(db, environment);
  const before = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();

  const tokenCutoff = before(r.signInTokensDays);
  const tokens = await drain<{ unused: boolean }>(
    db,
    () => sql`delete from sign_in_tokens where id in (
                select id from sign_in_tokens
                where environment = ${environment}
                  and ((used_at is not null and used_at < ${tokenCutoff}::timestamptz)
                       or (used_at is null and expires_at < ${tokenCutoff}::timestamptz))
                limit ${BATCH})
              returning used_at is null as unused`,
  );

  // A session and its refresh tokens go together, in one transaction per batch.
  const sessionCutoff = before(r.endedSessionsDays);
  const sessions = await drain<{ refresh_tokens: number }>(
    db,
    () => sql`with ended as (
                select id from sdk_sessions
                where environment = ${environment}
                  and (revoked_at < ${sessionCutoff}::timestamptz or expires_at < ${sessionCutoff}::timestamptz)
                limit ${BATCH}),
              gone_tokens as (delete from refresh_tokens where session_id in (select id from ended) returning session_id)
              delete from sdk_sessions where id in (select id from ended)
              returning (select count(*) from gone_tokens where session_id = sdk_sessions.id)::int as refresh_tokens`,
  );

  // Personal data an IDV session captured (form values, photos): the session row (status, times) stays.
  const idvCutoff = before(r.idvCapturedDays);
  const steps = await drain<{ session_id: string }>(
    db,
    () => sql`delete from idv_session_steps where (session_id, step_id) in (
                select st.session_id, st.step_id from idv_session_steps st
                join idv_sessions s on s.id = st.session_id
                where s.environment = ${environment}
                  and s.status in ('submitted', 'expired', 'cancelled')
                  and coalesce(s.submitted_at, s.updated_at) < ${idvCutoff}::timestamptz
                limit ${BATCH})
              returning session_id`,
  );

  const deviceCutoff = before(r.deviceRefreshTokensDays);
  const deviceTokens = await drain<{ id: string }>(
    db,
    () => sql`delete from device_refresh_tokens where id in (
                select t.id from device_refresh_tokens t
                join devices d on d.id = t.device_id
                join instances i on i.id = d.instance_id
                where i.environment = ${environment}
                  and (t.expires_at < ${deviceCutoff}::timestamptz or t.used_at < ${deviceCutoff}::timestamptz
                       or t.revoked_at < ${deviceCutoff}::timestamptz)
                limit ${BATCH})
              returning id`,
  );

  return {
    signInTokens: tokens.length,
    signInTokensExpiredUnused: tokens.filter((t) => t.unused).length,
    sdkSessions: sessions.length,
    refreshTokens: sessions.reduce((n, s) => n + Number(s.refresh_tokens), 0),
    idvCapturedSteps: steps.length,
    deviceRefreshTokens: deviceTokens.length,
  };
}

/**
 * One janitor run. `actor` is the system's janitor for the background job, the operator through
 * `tokendesk janitor run`; `now` is injectable for tests.
 */
export async function runJanitor(db: Database, opts: { now?: Date; actor?: Actor; meta?: RequestMeta } = {}): Promise<JanitorReport> {
  const actor = opts.actor ?? systemActor("janitor");
  assertStaffCan(actor, "settings:manage");
  const now = opts.now ?? new Date();
  const meta = opts.meta ?? NO_REQUEST;
  // PGlite is one session, where the advisory lock is re-entrant: a flag keeps runs of one process apart too.
  const running = globalThis as unknown as { __tokendeskJanitorRunning?: boolean };
  if (running.__tokendeskJanitorRunning) return notRun();
  running.__tokendeskJanitorRunning = true;
  try {
    const locked = await withTryAdvisoryLock(db, JANITOR_LOCK, () => sweep(db, actor, now, meta));
    return locked.acquired ? { ran: true, ...locked.value } : notRun();
  } finally {
    running.__tokendeskJanitorRunning = false;
  }
}

function notRun(): JanitorReport {
  return {
    ran: false,
    counts: zero(),
    perEnvironment: Object.fromEntries(ENVIRONMENTS.map((e) => [e, zero()])) as unknown as JanitorReport["perEnvironment"],
    archive: null,
  };
}

async function sweep(db: Database, actor: Actor, now: Date, meta: RequestMeta): Promise<Omit<JanitorReport, "ran">> {
  const counts = zero();
  const perEnvironment = {} as JanitorReport["perEnvironment"];
  for (const environment of ENVIRONMENTS) {
    const c = await sweepEnvironment(db, environment, now);
    perEnvironment[environment] = c;
    for (const [k, v] of Object.entries(c)) counts[k as keyof typeof c] += v;
    metrics().signInTokensExpired.inc({ environment }, c.signInTokensExpiredUnused);
  }
  counts.rateLimits = await sweepExpiredLimits(db, now, BATCH);

  let archive: ArchiveResult | null = null;
  const retention = config().auditRetention;
  if (retention) {
    archive = await archiveAuditLog(db, { cutoff: new Date(now.getTime() - retention.days * DAY_MS), dir: retention.archiveDir, actor, meta, now });
    counts.auditEventsArchived = archive?.events ?? 0;
  }

  const m = metrics();
  for (const [kind, n] of Object.entries(counts)) if (n) m.janitorRemoved.inc({ kind }, n);
  await recordAudit(
    db,
    {
      actor,
      action: "janitor.ran",
      target: { type: "retention", id: null },
      details: { counts, perEnvironment, auditArchive: archive ? { fromSeal: archive.fromSeal, toSeal: archive.toSeal, sha256: archive.sha256 } : null },
      occurredAt: now,
    },
    meta,
  );
  return { counts, perEnvironment, archive };
}
