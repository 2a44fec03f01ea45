/**
 * The webhook outbox: the statement that turns events into deliveries. An event is written by the
 * same statement as the audit event of the change that sends it (`recordAudit`/`recordAudits` in
 * lib/audit/record.ts, an audit input's `webhook`), so it exists exactly when the change does: a
 * rolled-back change sends nothing, a committed one is delivered by the dispatcher even if this
 * process dies right after the commit — and an operation that sends an event pays no statement of
 * its own for it.
 *
 * The statement fans each event out to the enabled endpoints of its environment that subscribe to
 * its type, as they are when the statement runs (no cache: an endpoint created on another instance
 * a moment ago gets the event). With no such endpoint it writes nothing.
 */
import { type SQL, sql } from "drizzle-orm";
import { newId } from "@/lib/ids";
import { type WebhookEvent, webhookBody } from "./events";

/** Failed deliveries are retried for about a day (the Standard Webhooks norm; the dispatcher's schedule). */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
const RETRY_WINDOW_SQL = sql.raw(`interval '${RETRY_WINDOW_MS / 1000} seconds'`);

/** A Standard Webhooks message id: unique per event, the same for every endpoint and every retry. */
export function newMessageId(): string {
  return `msg_${newId().replaceAll("-", "")}`;
}

/**
 * `insert into webhook_deliveries … select … from webhook_endpoints …` for `events` (at least one),
 * to run on its own or as the main statement after the audit insert's CTE. Its text is fixed (one
 * event: scalar parameters; several: the rows as one JSON array — array parameters do not pass
 * through drizzle's postgres.js driver), so it runs prepared. The caller has checked the payloads
 * for secrets (`buildAuditRow` does).
 */
export function outboxInsert(events: readonly WebhookEvent[]): SQL {
  const rows = events.map((e) => ({
    messageId: newMessageId(),
    type: e.type,
    environment: e.environment,
    body: JSON.stringify(webhookBody(e.type, e.occurredAt, e.data)),
    at: e.occurredAt.toISOString(),
  }));
  if (rows.length === 1) {
    const [r] = rows as [(typeof rows)[number]];
    return sql`insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
      select gen_random_uuid(), ${r.messageId}::text, e.id, ${r.type}::text, e.environment, ${r.body}::text, 'pending',
             ${r.at}::timestamptz, ${r.at}::timestamptz + ${RETRY_WINDOW_SQL}, ${r.at}::timestamptz
      from webhook_endpoints e
      where e.environment = ${r.environment}::text and ${r.type}::text = any (e.event_types) and e.disabled_at is null`;
  }
  return sql`insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
    select gen_random_uuid(), ev."messageId", e.id, ev.type, ev.environment, ev.body, 'pending', ev.at, ev.at + ${RETRY_WINDOW_SQL}, ev.at
    from json_to_recordset(${JSON.stringify(rows)}::json) as ev ("messageId" text, type text, environment text, body text, at timestamptz)
    join webhook_endpoints e on e.environment = ev.environment and ev.type = any (e.event_types) and e.disabled_at is null`;
}
