/**
 * What the console shows and does with deliveries: an endpoint's recent deliveries (keyset pages),
 * one delivery with its payload, "send a test event" and "replay". Replaying sends the same
 * message again — same `webhook-id`, same body, freshly signed — with a new day of retries.
 */
import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import type { z } from "zod";
import { type Database, type Executor, queryRows } from "@/db/client";
import { type WebhookDelivery, webhookDeliveries } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { assertStaffCan } from "@/lib/staff/authorize";
import { loadEndpoint } from "./endpoints";
import { type TEST_EVENT_DATA_SCHEMA, TEST_EVENT_TYPE, webhookBody } from "./events";
import { newMessageId, RETRY_WINDOW_MS } from "./outbox";

export interface DeliveryView {
  id: string;
  messageId: string;
  endpointId: string;
  eventType: string;
  status: WebhookDelivery["status"];
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  deliveredAt: Date | null;
  createdAt: Date;
  /** The JSON body as sent (no secret is ever in it). */
  body: string;
}

export function toDeliveryView(d: WebhookDelivery): DeliveryView {
  return {
    id: d.id,
    messageId: d.messageId,
    endpointId: d.endpointId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "pending" ? d.nextAttemptAt : null,
    lastAttemptAt: d.lastAttemptAt,
    lastResponseStatus: d.lastResponseStatus,
    lastError: d.lastError,
    lastDurationMs: d.lastDurationMs,
    deliveredAt: d.deliveredAt,
    createdAt: d.createdAt,
    body: d.body,
  };
}

export const DELIVERY_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;

export interface DeliveryPage {
  deliveries: DeliveryView[];
  nextCursor: string | null;
}

function encodeCursor(d: { createdAt: Date; id: string }): string {
  return Buffer.from(`${d.createdAt.toISOString()}|${d.id}`).toString("base64url");
}

function decodeCursor(cursor: string | null | undefined): { createdAt: Date; id: string } | null {
  if (!cursor) return null;
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) return null;
  return { createdAt, id };
}

/** An endpoint's deliveries, newest first, by keyset (a malformed cursor starts from the top). */
export async function listDeliveries(
  db: Executor,
  actor: Actor,
  endpointId: string,
  opts: { cursor?: string | null; limit?: number } = {},
): Promise<DeliveryPage> {
  assertStaffCan(actor, "webhooks:read");
  const endpoint = await loadEndpoint(db, endpointId);
  const limit = Math.max(1, Math.min(MAX_PAGE_SIZE, opts.limit ?? DELIVERY_PAGE_SIZE));
  const after = decodeCursor(opts.cursor);
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpoint.id),
        after
          ? or(lt(webhookDeliveries.createdAt, after.createdAt), and(eq(webhookDeliveries.createdAt, after.createdAt), lt(webhookDeliveries.id, after.id)))
          : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { deliveries: page.map(toDeliveryView), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!) : null };
}

const deliveryNotFound = () => new DomainError("webhook_delivery_not_found");

export async function getDelivery(db: Executor, actor: Actor, id: string): Promise<DeliveryView> {
  assertStaffCan(actor, "webhooks:read");
  if (!isUuid(id)) throw deliveryNotFound();
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  if (!row) throw deliveryNotFound();
  return toDeliveryView(row);
}

/** Sends the same message again (same webhook-id), due now, with a new day of retries. */
export async function replayDelivery(db: Database, actor: Actor, id: string, meta: RequestMeta, opts: { now?: Date } = {}): Promise<DeliveryView> {
  assertStaffCan(actor, "webhooks:manage");
  if (!isUuid(id)) throw deliveryNotFound();
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const [d] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).for("update");
    if (!d) throw deliveryNotFound();
    const endpoint = await loadEndpoint(tx, d.endpointId);
    if (d.status === "pending") throw new DomainError("webhook_delivery_pending");
    const [row] = await tx
      .update(webhookDeliveries)
      // attempts restarts so the backoff does too; no claim of the old attempts is outstanding (the
      // delivery is final), so the counter cannot be confused with one.
      .set({
        status: "pending",
        attempts: 0,
        firstAttemptAt: null,
        nextAttemptAt: now,
        retryUntil: new Date(now.getTime() + RETRY_WINDOW_MS),
        deliveredAt: null,
      })
      .where(eq(webhookDeliveries.id, d.id))
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: "webhook_delivery.replayed",
        target: { type: "webhook_endpoint", id: endpoint.id },
        environment: endpoint.environment,
        details: { deliveryId: d.id, messageId: d.messageId, eventType: d.eventType, previousStatus: d.status },
        occurredAt: now,
      },
      meta,
    );
    return toDeliveryView(row!);
  });
}

/**
 * Queues a `webhook.test` event for one endpoint, whatever types it subscribes to. The endpoint
 * must be enabled: a disabled endpoint's deliveries wait until it is enabled again.
 */
export async function sendTestEvent(db: Database, actor: Actor, endpointId: string, meta: RequestMeta, opts: { now?: Date } = {}): Promise<DeliveryView> {
  assertStaffCan(actor, "webhooks:manage");
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const endpoint = await loadEndpoint(tx, endpointId);
    if (endpoint.disabledAt) throw new DomainError("webhook_endpoint_disabled");
    const data: z.infer<typeof TEST_EVENT_DATA_SCHEMA> = {
      endpoint_id: endpoint.id,
      environment: endpoint.environment,
      message: "A test event sent from the tokendesk console.",
    };
    const body = JSON.stringify(webhookBody(TEST_EVENT_TYPE, now, data));
    const [row] = await tx
      .insert(webhookDeliveries)
      .values({
        id: newId(),
        messageId: newMessageId(),
        endpointId: endpoint.id,
        eventType: TEST_EVENT_TYPE,
        environment: endpoint.environment,
        body,
        status: "pending",
        nextAttemptAt: now,
        retryUntil: new Date(now.getTime() + RETRY_WINDOW_MS),
        createdAt: now,
      })
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: "webhook_endpoint.test_sent",
        target: { type: "webhook_endpoint", id: endpoint.id },
        environment: endpoint.environment,
        details: { deliveryId: row!.id, messageId: row!.messageId },
        occurredAt: now,
      },
      meta,
    );
    return toDeliveryView(row!);
  });
}

/** Retention: finished deliveries older than `days` go (the audit log keeps what was configured). */
export async function sweepOldDeliveries(db: Database, now: Date, days = 30): Promise<number> {
  const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
  const gone = await queryRows<{ id: string }>(
    db,
    sql`delete from webhook_deliveries where id in (
          select id from webhook_deliveries where status <> 'pending' and created_at < ${cutoff}::timestamptz limit 5000)
        returning id::text as id`,
  );
  return gone.length;
}
