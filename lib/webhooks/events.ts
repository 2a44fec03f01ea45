/**
 * The events tokendesk sends to customers' webhook endpoints, and their payloads (version 1).
 *
 * Every delivery is the JSON body `{type, version, timestamp, data}`: `type` one of the names below,
 * `version` the payload version of that type (bumped only when a field changes meaning or goes
 * away; new fields may appear in any version), `timestamp` when the change happened (ISO-8601),
 * `data` the ids a receiver needs to act: users, sessions, installations, workflows, devices, API
 * keys by id and prefix. Never a secret or a token, and no personal data beyond the ids the
 * customer chose (client_user_id, externalUserId, a device's ClientId).
 */
import type { IdvSession } from "@/db/schema";
import type { Actor } from "@/lib/context";

export const WEBHOOK_PAYLOAD_VERSION = 1;

export const WEBHOOK_EVENTS = {
  "user.created": "A user was created (POST /v2/user, the console or the CLI).",
  "user.disabled": "A user was disabled; every SDK session of the user ended at once.",
  "user.enabled": "A disabled user was enabled again (their old sessions stay ended).",
  "user.deleted": "A user was deleted; their SDK sessions ended with user_deleted.",
  "sign_in_token.redeemed": "A sign-in token was exchanged for tokens: an SDK session started.",
  "sdk_session.revoked": "One SDK session was ended by staff or by the SDK itself (RFC 7009 revocation).",
  "refresh_token.reuse_detected": "A rotated refresh token was presented again after its grace window (possible theft); the session was ended.",
  "migration.completed": "An SDK installation migrated from a Team API key to a sign-in token.",
  "migration.rejected": "A migration from a Team API key was refused; the sign-in token stays usable.",
  "idv_session.started": "An IDV session was started with an ephemeral token.",
  "idv_session.submitted": "Every step of an IDV session was captured and the session submitted.",
  "idv_session.expired": "An IDV session reached its expiry before it was submitted.",
  "idv_session.cancelled": "Staff cancelled an IDV handoff before it was submitted.",
  "device.registered": "A telematics device registered (POST /v1/Registration/create).",
  "device.disabled": "Staff disabled a telematics device; its JWTs, logins and refreshes are refused.",
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS;
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENTS) as WebhookEventType[];

/** Sent only by "send a test event" in the console, to one endpoint whatever it subscribes to. */
export const TEST_EVENT_TYPE = "webhook.test";

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === "string" && Object.hasOwn(WEBHOOK_EVENTS, value);
}

type Environment = "sandbox" | "production";
/** Who made the change, by kind only (staff names stay inside tokendesk). */
export type Initiator = Actor["type"];

interface UserRef {
  user_id: string;
  client_user_id: string;
  environment: Environment;
  region: string;
}

interface IdvSessionRef {
  session_id: string;
  workflow_id: string;
  status: IdvSession["status"];
  environment: Environment;
  region: string;
  external_user_id: string | null;
  user_id: string | null;
  created_at: string;
  expires_at: string;
}

/** The `data` of each event type, version 1. */
export interface WebhookEventData {
  "user.created": UserRef & { created_on: string; initiated_by: Initiator };
  "user.disabled": UserRef & { sessions_ended: number; initiated_by: Initiator };
  "user.enabled": UserRef & { initiated_by: Initiator };
  "user.deleted": UserRef & { sessions_ended: number; initiated_by: Initiator };
  "sign_in_token.redeemed": UserRef & { sign_in_token_id: string; session_id: string; installation_id: string | null };
  "sdk_session.revoked": {
    session_id: string;
    user_id: string;
    environment: Environment;
    region: string;
    installation_id: string | null;
    reason: "revoked_by_staff" | "revoked_by_client";
    initiated_by: Initiator;
  };
  "refresh_token.reuse_detected": {
    session_id: string;
    user_id: string;
    environment: Environment;
    region: string;
    installation_id: string | null;
    refresh_token_id: string;
    rotated_at: string;
  };
  "migration.completed": UserRef & { api_key_id: string; api_key_prefix: string; installation_id: string | null; session_id: string };
  "migration.rejected": {
    user_id: string;
    environment: Environment;
    region: string;
    api_key_id: string | null;
    api_key_prefix: string | null;
    previous_user_id: string | null;
    installation_id: string | null;
    reason: string;
  };
  "idv_session.started": IdvSessionRef;
  "idv_session.submitted": IdvSessionRef & { submitted_at: string; steps: string[] };
  "idv_session.expired": IdvSessionRef;
  "idv_session.cancelled": IdvSessionRef & { previous_status: IdvSession["status"] };
  "device.registered": { device_id: string; instance_id: string; client_id: string | null; environment: Environment };
  "device.disabled": { device_id: string; instance_id: string; client_id: string | null; environment: Environment; initiated_by: Initiator };
}

/** One event as a domain function hands it to the outbox. */
export type WebhookEvent = {
  [T in WebhookEventType]: { type: T; environment: Environment; data: WebhookEventData[T]; occurredAt: Date };
}[WebhookEventType];

export interface WebhookBody {
  type: string;
  version: number;
  timestamp: string;
  data: Record<string, unknown>;
}

export function webhookBody(type: string, occurredAt: Date, data: object): WebhookBody {
  return { type, version: WEBHOOK_PAYLOAD_VERSION, timestamp: occurredAt.toISOString(), data: data as Record<string, unknown> };
}

/** The common part of every idv_session.* event. */
export function idvSessionRef(
  s: Pick<IdvSession, "id" | "workflowId" | "status" | "environment" | "region" | "externalUserId" | "userId" | "createdAt" | "expiresAt">,
): IdvSessionRef {
  return {
    session_id: s.id,
    workflow_id: s.workflowId,
    status: s.status,
    environment: s.environment,
    region: s.region,
    external_user_id: s.externalUserId,
    user_id: s.userId,
    created_at: s.createdAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
  };
}

export function userRef(u: { id: string; clientUserId: string; environment: Environment; region: string }): UserRef {
  return { user_id: u.id, client_user_id: u.clientUserId, environment: u.environment, region: u.region };
}

export function sessionRevokedData(
  s: { id: string; userId: string; environment: Environment; region: string; installationId: string | null },
  reason: WebhookEventData["sdk_session.revoked"]["reason"],
  actor: Pick<Actor, "type">,
): WebhookEventData["sdk_session.revoked"] {
  return {
    session_id: s.id,
    user_id: s.userId,
    environment: s.environment,
    region: s.region,
    installation_id: s.installationId,
    reason,
    initiated_by: actor.type,
  };
}
