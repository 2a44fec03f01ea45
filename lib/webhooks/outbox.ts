/**
 * Writing events to the outbox. Domain functions call `enqueueWebhookEvents` with the transaction
 * that makes the change and writes its audit event, so the event exists exactly when the change
 * does: a rolled-back change sends nothing, a committed one is delivered by the dispatcher even if
 * this process dies right after the commit.
 *
 * One statement fans each event out to the enabled endpoints of its environment that subscribe to
 * its type, as they are at commit time. With no such endpoint it writes nothing: the cost on a hot
 * path (the exchange) is one small statement that travels with the audit insert.
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
    const at = e.occurredAt.toISOString();
    return sql`(${newMessageId()}, ${e.type}, ${e.environment}, ${JSON.stringify(webhookBody(e.type, e.occurredAt, e.data))}, ${at}::timestamptz)`;
  });
  // `sql` template, not the builder: this runs inside hot transactions (db/rows.ts says why).
  await queryRows(
    tx,
    sql`insert into webhook_deliveries (id, message_id, endpoint_id, event_type, environment, body, status, next_attempt_at, retry_until, created_at)
        select gen_random_uuid(), ev.message_id, e.id, ev.event_type, ev.environment, ev.body, 'pending', ev.at, ev.at + ${RETRY_WINDOW_SQL}, ev.at
        from (values ${sql.join(rows, sql`, `)}) as ev (message_id, event_type, environment, body, at)
        join webhook_endpoints e on e.environment = ev.environment and ev.event_type = any (e.event_types) and e.disabled_at is null`,
  );
}

export function enqueueWebhookEvent(tx: Executor, event: WebhookEvent): Promise<void> {
  return enqueueWebhookEvents(tx, [event]);
}
