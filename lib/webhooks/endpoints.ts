/**
 * Webhook endpoints: registered by admins (console or CLI) per environment with the event types they
 * want. The signing secret (`whsec_…`) is shown once, at creation or rotation, and stored encrypted
 * like the JWT signing keys (sealSecret in lib/crypto/keys.ts). A rotation keeps the previous secret
 * signing for an overlap, so a receiver can switch without losing a delivery. Every change is
 * audited in its own transaction.
 */
import net from "node:net";
import { and, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, type Executor, queryRows } from "@/db/client";
import { type WebhookEndpoint, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import { config } from "@/lib/config/env";
import type { Actor, RequestMeta } from "@/lib/context";
import { openSecret, sealSecret } from "@/lib/crypto/keys";
import { ENVIRONMENTS } from "@/lib/environments";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { assertStaffCan } from "@/lib/staff/authorize";
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "./events";
import { newWebhookSecret } from "./signing";
import { nonPublicReason } from "./ssrf";

/** How long the previous secret keeps signing after a rotation, unless the admin says otherwise. */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;
export const MAX_ROTATION_OVERLAP_SECONDS = 7 * 24 * 3600;

const endpointUrl = z
  .string("must be a string")
  .trim()
  .min(1, "is required")
  .max(2000, "must be at most 2000 characters")
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an absolute http:// or https:// URL" });
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") ctx.addIssue({ code: "custom", message: "must be an http:// or https:// URL" });
    else if (url.username || url.password) ctx.addIssue({ code: "custom", message: "must not carry a user name or password" });
    else if (url.hash) ctx.addIssue({ code: "custom", message: "must not have a #fragment" });
    else {
      // Literal addresses can be judged now; host names are judged at every delivery, after DNS.
      const host = url.hostname.replace(/^\[|\]$/g, "");
      const reason = net.isIP(host) ? nonPublicReason(host) : null;
      if (reason && !config().webhookAllowPrivate) {
        ctx.addIssue({ code: "custom", message: `points at ${reason}; webhooks go only to public addresses (the operator may set WEBHOOK_ALLOW_PRIVATE=1)` });
      }
    }
  });

export const createEndpointInput = z.object({
  url: endpointUrl.meta({ title: "URL" }),
  environment: z.enum(ENVIRONMENTS, "must be sandbox or production").meta({ title: "Environment" }),
  eventTypes: z
    .array(
      z.enum(WEBHOOK_EVENT_TYPES as [WebhookEventType, ...WebhookEventType[]], `must be among ${WEBHOOK_EVENT_TYPES.join(", ")}`).meta({ title: "Event type" }),
    )
    .min(1, "must include at least one event type")
    .meta({ title: "Event types" }),
  description: z.string("must be a string").trim().max(200, "must be at most 200 characters").nullish().meta({ title: "Description" }),
});
export type CreateEndpointInput = z.input<typeof createEndpointInput>;

/** "all" or a comma list → event types; unknown names are an error naming them. */
export function parseEventTypes(raw: string): WebhookEventType[] {
  if (raw.trim() === "all") return [...WEBHOOK_EVENT_TYPES];
  const list = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((s) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(s));
  if (unknown.length) {
    throw new DomainError("validation_failed", `Unknown event type ${unknown.join(", ")}; event types are ${WEBHOOK_EVENT_TYPES.join(", ")} or all.`, {
      field: "events",
    });
  }
  return list as WebhookEventType[];
}

/** What may be shown of an endpoint: never its secrets. */
export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  environment: "sandbox" | "production";
  eventTypes: string[];
  enabled: boolean;
  disabledAt: Date | null;
  disabledReason: "staff" | "failing" | null;
  failingSince: Date | null;
  lastSuccessAt: Date | null;
  /** End of the current rotation's overlap (the previous secret still signs until then), if any. */
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
}

export function toEndpointView(e: WebhookEndpoint, now: Date = new Date()): WebhookEndpointView {
  const overlap = e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > now.getTime() ? e.previousSecretExpiresAt : null;
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    environment: e.environment,
    eventTypes: e.eventTypes,
    enabled: e.disabledAt === null,
    disabledAt: e.disabledAt,
    disabledReason: e.disabledReason,
    failingSince: e.failingSince,
    lastSuccessAt: e.lastSuccessAt,
    previousSecretExpiresAt: overlap,
    createdAt: e.createdAt,
  };
}

/** The secrets that sign a delivery now: the current one, and the previous one during an overlap. */
export function signingSecrets(e: Pick<WebhookEndpoint, "secretEncrypted" | "previousSecretEncrypted" | "previousSecretExpiresAt">, now: Date): string[] {
  const secrets = [openSecret("webhook-secret-encryption", e.secretEncrypted)];
  if (e.previousSecretEncrypted && e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > now.getTime()) {
    secrets.push(openSecret("webhook-secret-encryption", e.previousSecretEncrypted));
  }
  return secrets;
}

const endpointNotFound = () => new DomainError("webhook_endpoint_not_found");

export async function loadEndpoint(db: Executor, id: string, forUpdate = false): Promise<WebhookEndpoint> {
  if (!isUuid(id)) throw endpointNotFound();
  const query = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  const [row] = forUpdate ? await query.for("update") : await query;
  if (!row) throw endpointNotFound();
  return row;
}

export async function createWebhookEndpoint(
  db: Database,
  actor: Actor,
  input: CreateEndpointInput,
  meta: RequestMeta,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  assertStaffCan(actor, "webhooks:manage");
  const data = parseInput(createEndpointInput, input);
  const secret = newWebhookSecret();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId(),
        url: data.url,
        description: data.description || null,
        environment: data.environment,
        eventTypes: [...new Set(data.eventTypes)],
        secretEncrypted: sealSecret("webhook-secret-encryption", secret),
        createdBy: actor.id,
      })
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: "webhook_endpoint.created",
        target: { type: "webhook_endpoint", id: row!.id },
        environment: row!.environment,
        details: { url: row!.url, eventTypes: row!.eventTypes },
      },
      meta,
    );
    return { endpoint: toEndpointView(row!), secret };
  });
}

export async function listWebhookEndpoints(db: Executor, actor: Actor, now: Date = new Date()): Promise<WebhookEndpointView[]> {
  assertStaffCan(actor, "webhooks:read");
  const rows = await db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id));
  return rows.map((r) => toEndpointView(r, now));
}

export async function getWebhookEndpoint(db: Executor, actor: Actor, id: string, now: Date = new Date()): Promise<WebhookEndpointView> {
  assertStaffCan(actor, "webhooks:read");
  return toEndpointView(await loadEndpoint(db, id), now);
}

/**
 * Disabling stops deliveries to the endpoint at once: its pending deliveries wait (they are not
 * claimed) and new events are not written for it. Enabling resumes the pending ones and clears the
 * failure streak, so an endpoint the dispatcher disabled gets a fresh day.
 */
export async function setWebhookEndpointEnabled(
  db: Database,
  actor: Actor,
  id: string,
  enabled: boolean,
  meta: RequestMeta,
  opts: { now?: Date } = {},
): Promise<WebhookEndpointView> {
  assertStaffCan(actor, "webhooks:manage");
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const endpoint = await loadEndpoint(tx, id, true);
    if ((endpoint.disabledAt === null) === enabled) return toEndpointView(endpoint, now);
    const [row] = await tx
      .update(webhookEndpoints)
      .set(
        enabled ? { disabledAt: null, disabledReason: null, failingSince: null, updatedAt: now } : { disabledAt: now, disabledReason: "staff", updatedAt: now },
      )
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: enabled ? "webhook_endpoint.enabled" : "webhook_endpoint.disabled",
        target: { type: "webhook_endpoint", id: endpoint.id },
        environment: endpoint.environment,
        details: { url: endpoint.url, ...(enabled ? { previouslyDisabledFor: endpoint.disabledReason } : {}) },
        occurredAt: now,
      },
      meta,
    );
    return toEndpointView(row!, now);
  });
}

/**
 * A new secret, shown once. The old one keeps signing for `overlapSeconds` (0 ends it at once), so
 * deliveries carry both signatures until the receiver has switched. A second rotation during an
 * overlap ends the older overlap: only the two newest secrets ever sign.
 */
export async function rotateWebhookSecret(
  db: Database,
  actor: Actor,
  id: string,
  opts: { overlapSeconds?: number; now?: Date },
  meta: RequestMeta,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  assertStaffCan(actor, "webhooks:manage");
  const overlap = opts.overlapSeconds ?? DEFAULT_ROTATION_OVERLAP_SECONDS;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_ROTATION_OVERLAP_SECONDS) {
    throw new DomainError("validation_failed", `Overlap must be a whole number of seconds from 0 to ${MAX_ROTATION_OVERLAP_SECONDS} (7 days).`, {
      field: "overlap",
    });
  }
  const now = opts.now ?? new Date();
  const secret = newWebhookSecret();
  return db.transaction(async (tx) => {
    const endpoint = await loadEndpoint(tx, id, true);
    const previousExpiresAt = overlap > 0 ? new Date(now.getTime() + overlap * 1000) : null;
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        secretEncrypted: sealSecret("webhook-secret-encryption", secret),
        previousSecretEncrypted: previousExpiresAt ? endpoint.secretEncrypted : null,
        previousSecretExpiresAt: previousExpiresAt,
        updatedAt: now,
      })
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: "webhook_endpoint.secret_rotated",
        target: { type: "webhook_endpoint", id: endpoint.id },
        environment: endpoint.environment,
        details: { url: endpoint.url, overlapSeconds: overlap, previousSignsUntil: previousExpiresAt?.toISOString() ?? null },
        occurredAt: now,
      },
      meta,
    );
    return { endpoint: toEndpointView(row!, now), secret };
  });
}

/** Deletes the endpoint and its deliveries (pending ones are never sent). The audit trail stays. */
export async function deleteWebhookEndpoint(db: Database, actor: Actor, id: string, meta: RequestMeta): Promise<void> {
  assertStaffCan(actor, "webhooks:manage");
  await db.transaction(async (tx) => {
    const endpoint = await loadEndpoint(tx, id, true);
    const [counts] = await queryRows<{ pending: number; total: number }>(
      tx,
      sql`with gone as (delete from webhook_deliveries where endpoint_id = ${endpoint.id}::uuid returning status)
          select count(*) filter (where status = 'pending')::int as pending, count(*)::int as total from gone`,
    );
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
    await recordAudit(
      tx,
      {
        actor,
        action: "webhook_endpoint.deleted",
        target: { type: "webhook_endpoint", id: endpoint.id },
        environment: endpoint.environment,
        details: { url: endpoint.url, deliveriesDeleted: counts?.total ?? 0, pendingDropped: counts?.pending ?? 0 },
      },
      meta,
    );
  });
}

/** Endpoints the dispatcher disabled, for the console's banner. */
export async function failingEndpoints(db: Executor, actor: Actor): Promise<WebhookEndpointView[]> {
  assertStaffCan(actor, "webhooks:read");
  const rows = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.disabledReason, "failing")).orderBy(desc(webhookEndpoints.disabledAt));
  return rows.map((r) => toEndpointView(r));
}

/** Delivery counts per endpoint and status over the last day, for the endpoint list. */
export async function endpointDeliveryStats(
  db: Executor,
  actor: Actor,
  ids: string[],
  now: Date = new Date(),
): Promise<Map<string, { pending: number; succeeded: number; failed: number }>> {
  assertStaffCan(actor, "webhooks:read");
  const stats = new Map<string, { pending: number; succeeded: number; failed: number }>();
  if (ids.length === 0) return stats;
  const since = new Date(now.getTime() - 24 * 3600 * 1000);
  const rows = await db
    .select({
      endpointId: webhookDeliveries.endpointId,
      pending: sql<number>`count(*) filter (where ${webhookDeliveries.status} = 'pending')::int`,
      succeeded: sql<number>`count(*) filter (where ${webhookDeliveries.status} = 'succeeded')::int`,
      failed: sql<number>`count(*) filter (where ${webhookDeliveries.status} = 'failed')::int`,
    })
    .from(webhookDeliveries)
    .where(and(inArray(webhookDeliveries.endpointId, ids), gte(webhookDeliveries.createdAt, since)))
    .groupBy(webhookDeliveries.endpointId);
  for (const r of rows) stats.set(r.endpointId, { pending: Number(r.pending), succeeded: Number(r.succeeded), failed: Number(r.failed) });
  return stats;
}
