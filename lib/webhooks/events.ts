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
import { z } from "zod";
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
  "refresh_token.reuse_detected":
    "A used refresh token was presented again after its grace window, or a replaced one or the predecessor of a used one (possible theft); the session was ended.",
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

// The payloads as zod schemas: the TypeScript types the domain functions fill in, the OpenAPI
// document's `webhooks` (server/openapi) and the tests' checks of what was sent all come from here.
const id = (what: string) => z.string().meta({ description: what });
const at = (what: string) => z.iso.datetime().meta({ description: what });
const environment = z.enum(["sandbox", "production"]);
const initiatedBy = z
  .enum(["staff", "system", "anonymous", "api_key", "user", "ephemeral_token", "device"])
  .meta({ description: "The kind of actor that made the change (`api_key`, `staff`, `system`, `user`, `device`, …)." });
const idvStatus = z.enum(["created", "in_progress", "submitted", "expired", "cancelled"]);

const userFields = {
  user_id: id("The user's id."),
  client_user_id: id("Your id for the user."),
  environment,
  region: z.string(),
};
const sessionRef = {
  session_id: id("The SDK session (refresh-token family, `sid` in access tokens)."),
  user_id: id("The user's id."),
  environment,
  region: z.string(),
  installation_id: z.string().nullable().meta({ description: "The SDK installation's id, if it sent one." }),
};
const idvRef = {
  session_id: id("The IDV session's id."),
  workflow_id: id("The workflow's id."),
  status: idvStatus,
  environment,
  region: z.string(),
  external_user_id: z.string().nullable().meta({ description: "`metadata.externalUserId` given when the session started." }),
  user_id: z.string().nullable().meta({ description: "The tokendesk user, for handoffs staff issued for one." }),
  created_at: at("When the session started."),
  expires_at: at("When its link stops working."),
};
const deviceRef = {
  device_id: id("The device's id."),
  instance_id: id("The telematics instance's id (InstanceId)."),
  client_id: z.string().nullable().meta({ description: "`UserFields.ClientId` given at registration." }),
  environment,
};

/** The `data` of each event type, version 1 (strict: a field added here is added on purpose). */
export const WEBHOOK_DATA_SCHEMAS = {
  "user.created": z.strictObject({ ...userFields, created_on: at("When the user was created."), initiated_by: initiatedBy }),
  "user.disabled": z.strictObject({
    ...userFields,
    sessions_ended: z.int().meta({ description: "SDK sessions ended by the disable." }),
    initiated_by: initiatedBy,
  }),
  "user.enabled": z.strictObject({ ...userFields, initiated_by: initiatedBy }),
  "user.deleted": z.strictObject({ ...userFields, sessions_ended: z.int(), initiated_by: initiatedBy }),
  "sign_in_token.redeemed": z.strictObject({
    ...userFields,
    sign_in_token_id: id("The sign-in token's id (`token_id` when it was minted) — never the token."),
    session_id: id("The SDK session the exchange started."),
    installation_id: sessionRef.installation_id,
  }),
  "sdk_session.revoked": z.strictObject({
    ...sessionRef,
    reason: z.enum(["revoked_by_staff", "revoked_by_client"]),
    initiated_by: initiatedBy,
  }),
  "refresh_token.reuse_detected": z.strictObject({
    ...sessionRef,
    refresh_token_id: id("The presented (already used or replaced) refresh token's id — never the token."),
    reason: z.enum(["after_grace", "replaced", "successor_used"]).meta({
      description:
        "after_grace: used again after its grace window; replaced: a successor a retry replaced; successor_used: retried after its successor was used.",
    }),
    rotated_at: at("When that token was first used.").nullable(),
  }),
  "migration.completed": z.strictObject({
    ...userFields,
    api_key_id: id("The Team API key the installation ran with."),
    api_key_prefix: id("Its first characters, e.g. `sk_us_AbCd`."),
    installation_id: sessionRef.installation_id,
    session_id: id("The SDK session that replaced API-key mode."),
  }),
  "migration.rejected": z.strictObject({
    user_id: id("The sign-in token's user."),
    environment,
    region: z.string(),
    api_key_id: z.string().nullable(),
    api_key_prefix: z.string().nullable(),
    previous_user_id: z.string().nullable(),
    installation_id: sessionRef.installation_id,
    reason: z
      .string()
      .meta({ description: "`unknown_api_key`, `api_key_revoked`, `environment_mismatch`, `region_mismatch`, `previous_user_id_missing`, `user_mismatch`." }),
  }),
  "idv_session.started": z.strictObject(idvRef),
  "idv_session.submitted": z.strictObject({
    ...idvRef,
    submitted_at: at("When it was submitted."),
    steps: z.array(z.string()).meta({ description: "The workflow steps captured." }),
  }),
  "idv_session.expired": z.strictObject(idvRef),
  "idv_session.cancelled": z.strictObject({ ...idvRef, previous_status: idvStatus }),
  "device.registered": z.strictObject(deviceRef),
  "device.disabled": z.strictObject({ ...deviceRef, initiated_by: initiatedBy }),
} satisfies Record<WebhookEventType, z.ZodType>;

export type WebhookEventData = { [T in WebhookEventType]: z.infer<(typeof WEBHOOK_DATA_SCHEMAS)[T]> };
type UserRef = Pick<WebhookEventData["user.created"], keyof typeof userFields>;
type IdvSessionRef = WebhookEventData["idv_session.started"];

/** The `data` of the console's test event. */
export const TEST_EVENT_DATA_SCHEMA = z.strictObject({
  endpoint_id: id("The endpoint the test was sent to."),
  environment,
  message: z.string(),
});

/** The whole body of one event type as sent, e.g. for the OpenAPI document. */
export function webhookBodySchema(type: WebhookEventType | typeof TEST_EVENT_TYPE) {
  return z.strictObject({
    type: z.literal(type),
    version: z.literal(WEBHOOK_PAYLOAD_VERSION),
    timestamp: at("When the change happened."),
    data: type === TEST_EVENT_TYPE ? TEST_EVENT_DATA_SCHEMA : WEBHOOK_DATA_SCHEMAS[type],
  });
}

/**
 * The webhook event a change sends, as a domain function attaches it to the change's audit event
 * (`AuditInput.webhook`): its environment and time are the audit event's.
 */
export type WebhookEventInput = {
  [T in WebhookEventType]: { type: T; data: WebhookEventData[T] };
}[WebhookEventType];

/** One event as the outbox writes it. */
export type WebhookEvent = WebhookEventInput & { environment: Environment; occurredAt: Date };

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
