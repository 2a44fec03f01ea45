/**
 * Writing events to the outbox. Domain functions call `enqueueWebhookEvents` with the transaction
 * that makes the change and writes its audit event, so the event exists exactly when the change
 * does: a rolled-back change sends nothing, a committed one is delivered by the dispatcher even if
 * this process dies right after the commit.
 *
 * One statement fans the events out to the enabled endpoints of their environment that subscribe
 * to their type, as they are when the statement runs (no cache: an endpoint created on another
 * instance a moment ago gets the event). With no such endpoint it writes nothing: the cost on a hot
 * path (the exchange) is one small prepared statement pipelined with the audit insert.
 */
import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { type Executor, queryRows } from "@/db/client";
import { assertNoSecrets } from "@/lib/audit/record";
import { type WebhookEvent, webhookBody } from "./events";

/** Failed deliveries are retried for about a day (the Standard Webhooks norm; the dispatcher's schedule). */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
const RETRY_WINDOW_SQL = sql.raw(`interval '${RETRY_WINDOW_MS / 1000} seconds'`);

/** A Standard Webhooks message id: unique per event, the same for every endpoint and every retry. */
export function newMessageId(): string {
  return `msg_${uuidv7().replaceAll("-", "")}`;
}

export async function enqueueWebhookEvents(tx: Executor, events: WebhookEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => {
    assertNoSecrets(e.data, "data", "a webhook payload");
    return {
      messageId: newMessageId(),
      type: e.type,
      environment: e.environment,
      body: JSON.stringify(webhookBody(e.type, e.occurredAt, e.data)),
      at: e.occurredAt.toISOString(),
    };
  });
  // Both statements have fixed text and run prepared (`sql` templates, not the builder: db/rows.ts
  // says why): on PostgreSQL each is parsed and planned once per pooled connection, and an
  // execution is one Bind/Execute that travels with the operation's other writes. Sent unprepared,
  // the statement cost a Parse/Describe round trip and a plan on every exchange.
  if (rows.length === 1) {
    const [r] = rows as [(typeof rows)[number]];
    await queryRows(
      tx,
      sql`insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
          select gen_random_uuid(), ${r.messageId}::text, e.id, ${r.type}::text, e.environment, ${r.body}::text, 'pending',
                 ${r.at}::timestamptz, ${r.at}::timestamptz + ${RETRY_WINDOW_SQL}, ${r.at}::timestamptz
          from webhook_endpoints e
          where e.environment = ${r.environment}::text and ${r.type}::text = any (e.event_types) and e.disabled_at is null`,
      { prepare: true },
    );
    return;
  }
  // Several events (a bulk change): the same fixed text for any number, the rows as one JSON array
  // (portable across both drivers, unlike array parameters).
  await queryRows(
    tx,
    sql`insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
        select gen_random_uuid(), ev."messageId", e.id, ev.type, ev.environment, ev.body, 'pending', ev.at, ev.at + ${RETRY_WINDOW_SQL}, ev.at
        from json_to_recordset(${JSON.stringify(rows)}::json) as ev ("messageId" text, type text, environment text, body text, at timestamptz)
        join webhook_endpoints e on e.environment = ev.environment and ev.type = any (e.event_types) and e.disabled_at is null`,
    { prepare: true },
  );
}

export function enqueueWebhookEvent(tx: Executor, event: WebhookEvent): Promise<void> {
  return enqueueWebhookEvents(tx, [event]);
}
