/**
 * Standard Webhooks signatures (the `standardwebhooks` library, so receivers verify with the same
 * code): `webhook-signature` is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret,
 * space-separated — during a rotation's overlap the previous secret signs too, so a receiver still
 * holding it keeps verifying.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** `whsec_` + base64 of 32 random bytes (the specification allows 24 to 64). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

export function signWebhook(secrets: string[], messageId: string, at: Date, body: string): SignedHeaders {
  if (secrets.length === 0) throw new Error("A webhook needs at least one secret to be signed.");
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign(messageId, at, body)).join(" "),
  };
}
