/**
 * The webhook outbox is the audit log. A change that sends an event attaches it to its audit event
 * (`AuditInput.webhook`, lib/audit/record.ts): the audit row carries it in `webhook` — type, the
 * Standard Webhooks message id fixed now, and the exact body — so the event is written by the
 * change's own statement in the change's own transaction. A rolled-back change leaves no event; a
 * committed one is never lost (it is in the log, and the log is durable), and the operation pays
 * for no delivery rows, no join and no statement of its own.
 *
 * After commit, `fanOutWebhookEvents` turns the events into deliveries (one per subscribed
 * endpoint), and the dispatcher delivers those. It runs at the start of every dispatcher tick, so an
 * event reaches its first attempt about one tick after its commit. How it stays exact with many
 * writers and several instances (the same reasoning as the audit sealer, lib/audit/seal.ts):
 *  - one fan-out at a time, under a transaction-scoped advisory lock; the others skip their turn;
 *  - it covers audit rows by the id of the transaction that wrote them, up to the horizon
 *    `pg_snapshot_xmin(pg_current_snapshot())`: every transaction below it has finished, so no row
 *    can appear below it later (a transaction that began before another and commits after it is
 *    simply below the horizon only once it has committed);
 *  - a one-row cursor (`webhook_fanout_cursor`) holds where the last run stopped; the deliveries and
 *    the cursor's move are one transaction, so each event is fanned out exactly once.
 * A transaction left open anywhere in the database holds the horizon back, and with it every
 * delivery (as it holds back seals): keep transactions short.
 *
 * Endpoints are judged at fan-out time: enabled, of the event's environment, subscribed to its type,
 * and created before the event, by transaction ids rather than clocks: an endpoint receives the
 * events of the transactions that got their id after the endpoint's creating transaction got its own
 * (`a.txid > e.created_txid`). An event's time is the app instance's clock and an endpoint's
 * `created_at` the database's; compared, they made an instance whose clock lags lose the events of
 * those seconds to a new endpoint (and one whose clock runs ahead send it events from before it
 * existed). The ids need no clock, and they decide exactly what one would expect:
 *  - a transaction that committed before the endpoint's began got its id earlier: not delivered;
 *  - one that began (took its id) after the endpoint's committed: delivered;
 *  - of two transactions open at the same time, the order in which they took their ids decides, as
 *    a serial order of the two would (ids are taken at the first write, which for an event is its
 *    audit row). The endpoint's own transaction is not after itself: not delivered.
 * It is also independent of when the fan-out runs: an event's row is covered once its txid is below
 * the horizon, and then every transaction with a smaller id (every endpoint that qualifies) has
 * finished, so whether it committed is known; endpoints with larger ids are excluded whether visible
 * or not. An endpoint added between an event's commit and its fan-out does not receive it.
 * A deleted endpoint gets nothing.
 *
 * A restore into another cluster (`pg_dump` into a fresh server: a backup restored, a move) brings
 * the cursor and the audit rows with the old cluster's transaction ids, while the new cluster numbers
 * its transactions afresh, far below them: new events would lie below the cursor forever and nothing
 * would be delivered again. The cursor is never above the next transaction id to be assigned
 * (`pg_snapshot_xmax`) in a cluster that has run continuously (it only ever holds an id that was
 * assigned: 0014's transaction's, or a horizon), so a cursor above it means a restore, and the run
 * that sees it (under the lock, once: afterwards the cursor is below the horizon) recovers:
 *  - every audit row visible then came with the restore. Those below the old cursor were fanned out
 *    in the old cluster (their deliveries were restored with them); those at or above it (the old
 *    cluster's backlog when it was dumped) are fanned out now, judged against the endpoints in the
 *    old cluster's ids, as the old cluster would have. A receiver may see one of those again if the
 *    old cluster delivered it after the dump: the same webhook-id, which it recognises;
 *  - the cursor moves to the new cluster's horizon: the events of every transaction not finished
 *    then are fanned out as usual. Events that the new cluster committed before this run cannot be
 *    told from restored rows (the numbers overlap) and count as restored: with the dispatcher running
 *    from each instance's start, that is the events of the instance's first tick at most;
 *  - new transactions will take the numbers that restored rows carry, so the walk from the new
 *    horizon would meet those rows again: the restored rows with events at or above the horizon are
 *    listed by id in `webhook_fanout_restored`, which the fan-out skips and prunes as it passes them;
 *  - restored endpoints carry creating ids from the old cluster, above every new transaction's: they
 *    are set to 0 (created before everything new), else they would receive nothing until the new
 *    cluster's ids pass the old ones. Endpoints created in the new cluster (ids below the next one)
 *    keep theirs.
 * The run logs a warning and counts `tokendesk_webhook_fanout_restores_total`.
 */
import { sql } from "drizzle-orm";
import { type Database, type Executor, queryRows } from "@/db/client";
import type { AuditWebhook } from "@/db/schema";
import { boundTxidRange } from "@/lib/audit/seal";
import { newId } from "@/lib/ids";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { type WebhookEventInput, webhookBody } from "./events";

/** Failed deliveries are retried for about a day (the Standard Webhooks norm; the dispatcher's schedule). */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
const RETRY_WINDOW_SQL = sql.raw(`interval '${RETRY_WINDOW_MS / 1000} seconds'`);

export const FANOUT_LOCK = 7_404_117_021;
/** Audit rows covered per fan-out transaction at most (whole transactions stay together), as for seals. */
export const MAX_EVENTS_PER_FANOUT = 5_000;

/** A Standard Webhooks message id: unique per event, the same for every endpoint and every retry. */
export function newMessageId(): string {
  return `msg_${newId().replaceAll("-", "")}`;
}

/**
 * The `webhook` column of the audit row of a change that sends `event` at `occurredAt`. The caller
 * has checked the payload for secrets (`buildAuditRow` does).
 */
export function auditWebhook(event: WebhookEventInput, occurredAt: Date): AuditWebhook {
  return { type: event.type, messageId: newMessageId(), body: JSON.stringify(webhookBody(event.type, occurredAt, event.data)) };
}

export interface FanOutResult {
  /** Deliveries written. */
  deliveries: number;
  /** The run stopped at its bound with more finished rows behind it: run again. */
  more: boolean;
}

type FanOutState = { horizon: string; next: string; from: string; pending: boolean; restored: boolean };

/**
 * Where the fan-out stands: the horizon, the cursor, and whether any audit row lies between them
 * (`pending`). No cursor row only if the table was emptied (tests truncate every table): start from
 * the first row then — at worst events go out again with the webhook-ids they had, which receivers
 * recognise.
 */
const fanOutState = (db: Executor) =>
  queryRows<FanOutState>(
    db,
    sql`select s.horizon::text as horizon, s.next::text as next, c.txid::text as "from",
               exists (select 1 from audit_events where txid >= c.txid and txid < s.horizon) as pending,
               c.txid > s.next as restored
        from (select (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint as horizon,
                     (pg_snapshot_xmax(pg_current_snapshot())::text)::bigint as next) s,
             (select coalesce((select to_txid from webhook_fanout_cursor where id = 1), 0) as txid) c`,
  );

/**
 * Fans out the webhook events of every audit row whose transaction has finished since the last run
 * (see the header). Returns at once with nothing done when another instance is fanning out.
 *
 * With nothing pending a run writes nothing, not even the cursor: moving it would be a write of its
 * own (a transaction id, a commit), and the next run would find that id below the horizon and
 * write again, every tick, forever.
 */
export async function fanOutWebhookEvents(db: Database): Promise<FanOutResult> {
  // Most ticks find nothing new: one statement tells, with no transaction and no lock (the answer
  // is only a hint; the run itself asks again under the lock).
  const [peek] = await fanOutState(db);
  if (!peek?.pending && !peek?.restored) return { deliveries: 0, more: false };
  return db.transaction(async (tx) => {
    const [lock] = await queryRows<{ ok: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${FANOUT_LOCK}) as ok`);
    if (!lock?.ok) return { deliveries: 0, more: false };
    // A statement after the lock's: it sees the cursor as the previous holder committed it.
    const [state] = await fanOutState(tx);
    if (state?.restored) return recoverFromRestore(tx, state);
    if (!state?.pending) return { deliveries: 0, more: false };
    const fromTxid = BigInt(state.from);
    const { toTxid, cut } = await boundTxidRange(tx, fromTxid, BigInt(state.horizon), MAX_EVENTS_PER_FANOUT);

    // `a.txid > e.created_txid`: the event's transaction took its id after the endpoint's (header).
    const written = await queryRows<{ n: number }>(
      tx,
      sql`with d as (
            insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
            select gen_random_uuid(), a.webhook->>'messageId', e.id, a.webhook->>'type', e.environment, a.webhook->>'body', 'pending',
                   a.occurred_at, a.occurred_at + ${RETRY_WINDOW_SQL}, a.occurred_at
            from audit_events a
            join webhook_endpoints e
              on e.environment = a.environment and (a.webhook->>'type') = any (e.event_types) and e.disabled_at is null
             and a.txid > e.created_txid
            where a.txid >= ${fromTxid.toString()}::bigint and a.txid < ${toTxid.toString()}::bigint and a.webhook is not null
              and not exists (select 1 from webhook_fanout_restored r where r.txid = a.txid and r.audit_id = a.id)
            returning 1)
          select count(*)::int as n from d`,
    );
    // Restored rows the walk has passed need no entry any more (empty but after a restore: header).
    await queryRows(tx, sql`delete from webhook_fanout_restored where txid < ${toTxid.toString()}::bigint`);
    await queryRows(
      tx,
      sql`insert into webhook_fanout_cursor (id, to_txid) values (1, ${toTxid.toString()}::bigint)
          on conflict (id) do update set to_txid = excluded.to_txid, updated_at = now()`,
    );
    return { deliveries: Number(written[0]?.n ?? 0), more: cut };
  });
}

/**
 * The run that finds the cursor above the next transaction id: the database was restored into
 * another cluster (see the header for the reasoning). One transaction, under the fan-out lock.
 */
async function recoverFromRestore(tx: Executor, state: FanOutState): Promise<FanOutResult> {
  const oldCursor = state.from;
  const horizon = state.horizon;
  // The old cluster's backlog: events at or above its cursor, fanned out now by the usual rule, in
  // the old cluster's ids (before the endpoints' ids are reset below).
  const tail = await queryRows<{ n: number }>(
    tx,
    sql`with d as (
          insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
          select gen_random_uuid(), a.webhook->>'messageId', e.id, a.webhook->>'type', e.environment, a.webhook->>'body', 'pending',
                 a.occurred_at, a.occurred_at + ${RETRY_WINDOW_SQL}, a.occurred_at
          from audit_events a
          join webhook_endpoints e
            on e.environment = a.environment and (a.webhook->>'type') = any (e.event_types) and e.disabled_at is null
           and a.txid > e.created_txid
          where a.txid >= ${oldCursor}::bigint and a.webhook is not null
          returning 1)
        select count(*)::int as n from d`,
  );
  // Every restored row with an event that the walk from the new horizon could meet again.
  const listed = await queryRows<{ n: number }>(
    tx,
    sql`with l as (
          insert into webhook_fanout_restored (txid, audit_id)
          select txid, id from audit_events where txid >= ${horizon}::bigint and webhook is not null
          on conflict do nothing
          returning 1)
        select count(*)::int as n from l`,
  );
  const reset = await queryRows<{ n: number }>(
    tx,
    sql`with u as (update webhook_endpoints set created_txid = 0 where created_txid >= ${state.next}::bigint returning 1)
        select count(*)::int as n from u`,
  );
  await queryRows(
    tx,
    sql`insert into webhook_fanout_cursor (id, to_txid) values (1, ${horizon}::bigint)
        on conflict (id) do update set to_txid = excluded.to_txid, updated_at = now()`,
  );
  const deliveries = Number(tail[0]?.n ?? 0);
  metrics().webhookFanoutRestores.inc();
  log().warn(
    {
      cursor: oldCursor,
      nextTxid: state.next,
      horizon,
      backlogDeliveries: deliveries,
      restoredEvents: Number(listed[0]?.n ?? 0),
      endpointsReset: Number(reset[0]?.n ?? 0),
    },
    "webhook fan-out: the cursor is ahead of every transaction id of this cluster, so the database was restored into another cluster; the fan-out restarts at this cluster's horizon, skipping the restored events (those the old cluster had not fanned out are fanned out now)",
  );
  return { deliveries, more: true };
}

/** Fans out until nothing finished is left (the CLI's `dispatch --once`, tests, the dispatcher's tick). */
export async function fanOutAll(db: Database): Promise<number> {
  let total = 0;
  for (;;) {
    const r = await fanOutWebhookEvents(db);
    total += r.deliveries;
    if (!r.more) return total;
  }
}
