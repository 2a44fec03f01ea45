/**
 * The user timeline: every audit event about one user, newest first, across every scheme — the
 * user's own events (created, disabled, deleted...), its sign-in tokens and SDK sessions (events
 * that target them), and events that only name the user in `details.userId` (refresh-token reuse,
 * migrations from API keys, IDV sessions, devices).
 *
 * Why a union of branches instead of one `where a or b or c`: each branch is served by an index of
 * audit_events — (target_type, target_id, occurred_at desc, id desc) for the targeted ones,
 * the partial details->>'userId' one for the details-only ones — and reads at most one page of it
 * past the cursor. A single OR over a jsonb predicate would walk the whole log for a quiet user.
 * The session, sign-in-token and IDV branches look the user's ids up first (`= any(array(...))`, an
 * init plan), so the target index is probed per id instead of read for every session in the log.
 * The details branch walks the partial (details->>'userId', occurred_at desc, id desc) index —
 * its `details ? 'userId'` predicate is repeated so the planner can match it — limited to the
 * actions that may name a user without targeting it. Every ORDER BY says `desc nulls last` because that is
 * how the indexes are built (drizzle's `.desc()`); a plain `desc` (nulls first) cannot walk them.
 */
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import { dateOf } from "@/db/rows";
import { AUDIT_ACTIONS, type AuditAction, type AuditOutcome } from "@/lib/audit/actions";
import { decodeCursor, encodeCursor } from "@/lib/audit/query";
import type { Actor } from "@/lib/context";
import { loadUserFor } from "./access";

export const DEFAULT_TIMELINE_PAGE = 50;
export const MAX_TIMELINE_PAGE = 200;

/**
 * Actions whose events may name a user only in `details.userId`, with some other target (an API
 * key, an ephemeral token, an IDV session) or none. Kept to the low-volume actions on purpose: the
 * high-volume ones (sign-in tokens, SDK sessions) target the user or its session and are found
 * through the target index instead.
 */
export const DETAIL_ONLY_ACTIONS: AuditAction[] = [
  "refresh_token.reuse_detected",
  "migration.completed",
  "migration.rejected",
  "ephemeral_token.minted",
  "idv_session.started",
];

/** One event as the user page shows it: the audit row minus its integrity fields. */
export interface TimelineEvent {
  id: string;
  occurredAt: Date;
  action: string;
  /** The action in words ("Sign-in token issued"). */
  title: string;
  actor: { type: string; id: string | null; name: string | null };
  target: { type: string; id: string | null } | null;
  environment: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface TimelinePage {
  events: TimelineEvent[];
  nextCursor: string | null;
}

type Row = {
  id: string;
  occurred_at: string | Date;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  environment: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  details: Record<string, unknown> | string;
};

function toEvent(r: Row): TimelineEvent {
  return {
    id: r.id,
    occurredAt: dateOf(r.occurred_at)!,
    action: r.action,
    title: AUDIT_ACTIONS[r.action as AuditAction] ?? r.action,
    actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name },
    target: r.target_type ? { type: r.target_type, id: r.target_id } : null,
    environment: r.environment,
    outcome: r.outcome,
    reason: r.reason,
    details: typeof r.details === "string" ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
  };
}

/**
 * One page of a user's timeline. Staff need `users:read` on the user's environment (qa: sandbox
 * only); deleted users keep their history. `cursor` is the `nextCursor` of the previous page.
 */
export async function getUserTimeline(
  db: Executor,
  actor: Actor,
  userId: string,
  opts: { cursor?: string | null; limit?: number | null } = {},
): Promise<TimelinePage> {
  const user = await loadUserFor(db, actor, userId, { permission: "users:read", scope: "users:read", allowDeleted: true });
  const asked = Math.trunc(Number(opts.limit ?? DEFAULT_TIMELINE_PAGE));
  const limit = Number.isFinite(asked) ? Math.max(1, Math.min(MAX_TIMELINE_PAGE, asked)) : DEFAULT_TIMELINE_PAGE;
  const cursor = decodeCursor(opts.cursor);
  const uid = user.id;
  // A row comparison is an index condition on (occurred_at, id): each branch starts at the cursor.
  const before = cursor ? sql`and (occurred_at, id) < (${cursor.at.toISOString()}::timestamptz, ${cursor.id}::uuid)` : sql``;
  const newestFirst = sql.raw("order by occurred_at desc nulls last, id desc nulls last");
  const cols = sql.raw("id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, environment, outcome, reason, details");
  const page = limit + 1;
  const detailActions = sql.join(
    DETAIL_ONLY_ACTIONS.map((a) => sql`${a}`),
    sql`, `,
  );

  const rows = await queryRows<Row>(
    db,
    sql`select * from (
          (select ${cols} from audit_events
             where target_type = 'user' and target_id = ${uid} ${before}
             ${newestFirst} limit ${page})
          union
          (select ${cols} from audit_events
             where target_type = 'sdk_session'
               and target_id = any(array(select id::text from sdk_sessions where user_id = ${uid}::uuid)) ${before}
             ${newestFirst} limit ${page})
          union
          (select ${cols} from audit_events
             where target_type = 'sign_in_token'
               and target_id = any(array(select id::text from sign_in_tokens where user_id = ${uid}::uuid)) ${before}
             ${newestFirst} limit ${page})
          union
          (select ${cols} from audit_events
             where target_type = 'idv_session'
               and target_id = any(array(select id::text from idv_sessions where user_id = ${uid}::uuid)) ${before}
             ${newestFirst} limit ${page})
          union
          (select ${cols} from audit_events
             where details ? 'userId' and details->>'userId' = ${uid}::text and action in (${detailActions}) ${before}
             ${newestFirst} limit ${page})
        ) as timeline
        ${newestFirst}
        limit ${page}`,
  );
  const events = rows.slice(0, limit).map(toEvent);
  const last = events[events.length - 1];
  return { events, nextCursor: rows.length > limit && last ? encodeCursor({ at: last.occurredAt, id: last.id }) : null };
}
