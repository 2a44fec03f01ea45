"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { replayDelivery, sendTestEvent } from "@/lib/webhooks/deliveries";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  rotateWebhookSecret,
  setWebhookEndpointEnabled,
  type WebhookEndpointView,
} from "@/lib/webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES } from "@/lib/webhooks/events";
import { staffAction } from "@/server/actions";

const id = z.uuid("is not a webhook endpoint id").meta({ title: "The endpoint" });

export interface EndpointWithSecret {
  endpoint: WebhookEndpointView;
  secret: string;
}

/**
 * Event types arrive as one checkbox per type (`event:user.created=on`), as API key scopes do;
 * "all" ticks every type. The domain function validates the URL, environment and list.
 */
export const createEndpointAction = staffAction(
  "webhooks:manage",
  z.looseObject({ url: z.string(), environment: z.string(), description: z.string().optional() }),
  async (input, { actor, db, meta }) => {
    const fields = input as Record<string, unknown>;
    const eventTypes = fields["event:all"] ? [...WEBHOOK_EVENT_TYPES] : WEBHOOK_EVENT_TYPES.filter((t) => fields[`event:${t}`]);
    const created = await createWebhookEndpoint(
      db,
      actor,
      { url: input.url, environment: input.environment as "sandbox", eventTypes, description: input.description || null },
      meta,
    );
    revalidatePath("/webhooks");
    return { data: created satisfies EndpointWithSecret, message: `Endpoint ${created.endpoint.url} created.` };
  },
);

export const setEndpointEnabledAction = staffAction(
  "webhooks:manage",
  z.object({ id, enabled: z.enum(["true", "false"]) }),
  async (input, { actor, db, meta }) => {
    const e = await setWebhookEndpointEnabled(db, actor, input.id, input.enabled === "true", meta);
    revalidatePath(`/webhooks/${e.id}`);
    revalidatePath("/webhooks");
    return {
      data: e.id,
      message: e.enabled ? "Endpoint enabled: waiting deliveries go out now." : "Endpoint disabled: deliveries wait until it is enabled again.",
    };
  },
);

export const rotateSecretAction = staffAction(
  "webhooks:manage",
  z.object({
    id,
    overlap: z.coerce
      .number("must be a number of seconds")
      .int("must be a whole number of seconds")
      .min(0, "must be from 0 to 7 days")
      .max(7 * 86_400, "must be from 0 to 7 days")
      .meta({ title: "Overlap" }),
  }),
  async (input, { actor, db, meta }) => {
    const rotated = await rotateWebhookSecret(db, actor, input.id, { overlapSeconds: input.overlap }, meta);
    revalidatePath(`/webhooks/${input.id}`);
    return { data: rotated satisfies EndpointWithSecret, message: "New signing secret issued." };
  },
);

export const deleteEndpointAction = staffAction("webhooks:manage", z.object({ id }), async (input, { actor, db, meta }) => {
  await deleteWebhookEndpoint(db, actor, input.id, meta);
  revalidatePath("/webhooks");
  return { data: input.id, message: "Endpoint deleted." };
});

export const sendTestEventAction = staffAction("webhooks:manage", z.object({ id }), async (input, { actor, db, meta }) => {
  const d = await sendTestEvent(db, actor, input.id, meta);
  revalidatePath(`/webhooks/${input.id}`);
  return { data: d.id, message: `Test event ${d.messageId} queued; it appears below once delivered.` };
});

export const replayDeliveryAction = staffAction(
  "webhooks:manage",
  z.object({ id: z.uuid("is not a delivery id").meta({ title: "The delivery" }) }),
  async (input, { actor, db, meta }) => {
    const d = await replayDelivery(db, actor, input.id, meta);
    revalidatePath(`/webhooks/${d.endpointId}`);
    return { data: d.id, message: `Replaying ${d.messageId} (same webhook-id).` };
  },
);
