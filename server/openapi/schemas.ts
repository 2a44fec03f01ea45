/**
 * Wire schemas of the answers the machine API gives outside the users family (whose own live in
 * server/routes/users.ts next to the handlers that build them): what the OpenAPI document shows and
 * what the HTTP suite validates real answers against. Where the domain already has a DTO type, a
 * compile-time check below ties the two, so neither can drift without the build failing.
 */
import { z } from "zod";
import type { SessionDetailDto, SessionDto } from "@/lib/idv/sessions";

const isoTime = (description: string) => z.string().meta({ description, format: "date-time", example: "2026-11-30T09:15:00.000Z" });

// ---- errors, one shape per family -----------------------------------------------------------

/** `{"error": {"code", "message"}}` of the `/v2` and `/api` families; some codes carry more fields. */
export const jsonError = (codes?: readonly [string, ...string[]]) =>
  z.object({
    error: z
      .looseObject({
        code: codes ? z.enum(codes) : z.string().meta({ description: "A stable snake_case code (the error-code table)." }),
        message: z.string().meta({ description: "A sentence for people." }),
      })
      .meta({ description: "Extra fields some codes carry: `user_id` (client_user_id_taken), `required_scope`, `request_id`." }),
  });

/** RFC 6749 §5.2 error of the `/oauth` family. */
export const oauthError = (codes?: readonly [string, ...string[]]) =>
  z.object({
    error: codes ? z.enum(codes) : z.string(),
    error_description: z
      .string()
      .meta({ description: "A sentence; `invalid_grant` descriptions start with a machine-readable reason (`user_deleted:`, `incompatible_migration:` …)." }),
  });

/** The telematics envelope, for errors: `Result` is null and `Errors` names the field. */
export const envelopeErrorBody = z.object({
  Result: z.null(),
  Status: z.number().int(),
  Title: z.string(),
  Errors: z.array(z.object({ Key: z.string(), Message: z.string() })).min(1),
});

export const envelopeOf = <T extends z.ZodType>(result: T) =>
  z.object({ Result: result, Status: z.literal(200), Title: z.string(), Errors: z.array(z.object({ Key: z.string(), Message: z.string() })).max(0) });

// ---- sign-in tokens ---------------------------------------------------------------------------

export const signInTokenAnswer = z
  .object({
    user_id: z.string(),
    sign_in_token: z.string().meta({ description: "Single use; `sit_<environment>_<region>_<secret>`.", example: "sit_sandbox_us_…" }),
    expires_at: isoTime("When the token stops working if unused."),
    token_id: z.string().meta({ description: "The token's id: list the user's pending tokens and revoke one by it." }),
  })
  .loose()
  .meta({ id: "SignInToken" });

export const userSearchPage = (user: z.ZodType) =>
  z.object({ users: z.array(user), next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }) });

// ---- OAuth ------------------------------------------------------------------------------------

export const tokenExchangeRequest = z
  .object({
    grant_type: z.literal("urn:ietf:params:oauth:grant-type:token-exchange"),
    subject_token: z.string().meta({ description: "The sign-in token." }),
    subject_token_type: z.literal("urn:tokendesk:params:oauth:token-type:sign-in-token"),
    installation_id: z.string().optional().meta({ description: "The SDK instance's stable id." }),
    previous_user_id: z.string().optional().meta({ description: "Migration from an API key: the user the installation acted as (send X-Vital-API-Key too)." }),
    requested_token_type: z.literal("urn:ietf:params:oauth:token-type:access_token").optional(),
    client_id: z.string().optional().meta({ description: "Accepted and ignored (public clients)." }),
  })
  .meta({ id: "TokenExchangeRequest" });

export const refreshRequest = z
  .object({ grant_type: z.literal("refresh_token"), refresh_token: z.string(), client_id: z.string().optional() })
  .meta({ id: "RefreshRequest" });

export const tokenAnswer = z
  .object({
    access_token: z.string().meta({ description: "A JWT (ES256), `aud` tokendesk, `sid` the session." }),
    issued_token_type: z.literal("urn:ietf:params:oauth:token-type:access_token").optional(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().meta({ example: 3600 }),
    refresh_token: z.string().meta({ description: "Rotated on every refresh; one live per session." }),
    user_id: z.string(),
    environment: z.enum(["sandbox", "production"]),
    region: z.string(),
  })
  .meta({ id: "TokenResponse" });

export const revokeRequest = z.object({ token: z.string(), token_type_hint: z.enum(["access_token", "refresh_token"]).optional() });
export const introspectRequest = z.object({ token: z.string(), token_type_hint: z.enum(["access_token", "refresh_token"]).optional() });
export const introspection = z
  .object({
    active: z.boolean(),
    sub: z.string().optional(),
    exp: z.number().int().optional(),
    iat: z.number().int().optional(),
    environment: z.enum(["sandbox", "production"]).optional(),
    region: z.string().optional(),
    token_type: z.enum(["access_token", "refresh_token"]).optional(),
    sid: z.string().optional(),
    aud: z.string().optional(),
  })
  .meta({ id: "Introspection" });

export const serverMetadata = z
  .looseObject({
    issuer: z.string(),
    token_endpoint: z.string(),
    revocation_endpoint: z.string(),
    introspection_endpoint: z.string(),
    jwks_uri: z.string(),
    grant_types_supported: z.array(z.string()),
  })
  .meta({ id: "AuthorizationServerMetadata" });

export const jwks = z.object({ keys: z.array(z.looseObject({ kid: z.string(), kty: z.string() })) }).meta({ id: "JWKS" });

// ---- IDV ----------------------------------------------------------------------------------------

export const ephemeralTokenAnswer = z.object({
  authorization: z.string().meta({ description: "The ephemeral token (`et_…`)." }),
  expiresAt: isoTime("Expiry."),
});

const sessionStatus = z.enum(["created", "in_progress", "submitted", "expired", "cancelled"]);
export const idvSession = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    status: sessionStatus,
    metadata: z.record(z.string(), z.unknown()),
    createdAt: isoTime("Created."),
    expiresAt: isoTime("The token's expiry."),
  })
  .meta({ id: "IdvSession" });
export const idvSessionDetail = idvSession
  .extend({
    submittedAt: z.string().nullable(),
    steps: z.array(z.looseObject({ id: z.string(), type: z.string(), label: z.string(), completed: z.boolean() })),
  })
  .meta({ id: "IdvSessionDetail" });

export const deeplinkAnswer = z.object({
  url: z.string().meta({ description: "`{BASE}/capture?url=…` — the handoff URL." }),
  createdAt: isoTime("Created."),
  expiresAt: isoTime("Expiry."),
  workflowIds: z.array(z.string()),
});

// ---- telematics -------------------------------------------------------------------------------

export const deviceTokens = z.object({
  DeviceToken: z.string().optional(),
  AccessToken: z.object({ Token: z.string(), ExpiresIn: z.number().int() }),
  RefreshToken: z.string(),
});
export const deviceSelf = z.object({
  Id: z.string(),
  InstanceId: z.string(),
  ClientId: z.string().nullable(),
  FirstName: z.string().nullable(),
  LastName: z.string().nullable(),
  Nickname: z.string().nullable(),
  Phone: z.string().nullable(),
  Email: z.string().nullable(),
  CreatedAt: z.string(),
  LastLoginAt: z.string().nullable(),
});

// ---- probes and documentation -------------------------------------------------------------------

export const live = z.object({ status: z.literal("ok") });
export const health = z.looseObject({ status: z.enum(["ok", "degraded", "unavailable"]), schemaVersion: z.unknown(), expectedSchemaVersion: z.unknown() });

// Compile-time ties to the domain's DTOs: an added or renamed field breaks the build here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _session: Same<Omit<z.infer<typeof idvSession>, "status" | "metadata">, Omit<SessionDto, "status" | "metadata">> = true;
const _detail: Same<keyof z.infer<typeof idvSessionDetail>, keyof SessionDetailDto> = true;
void _session;
void _detail;
