/**
 * The one error vocabulary of tokendesk. Every refusal the domain core or an adapter makes is a
 * `DomainError` whose code comes from this closed table; the code alone decides the HTTP status
 * (never the call site), and the table is what integrators read (README "Error codes", and the
 * OpenAPI document). Anything else thrown is a bug and is answered as a generic 500 that leaks
 * nothing.
 *
 * The OAuth endpoints answer RFC 6749 errors (lib/oauth/errors.ts) and the telematics family its
 * envelope; both carry these codes' statuses too.
 */
import { z } from "zod";

interface ErrorCodeSpec {
  status: number;
  /** What the code means, for the integrator reading the table; also the message when none is given. */
  meaning: string;
}

export const ERROR_CODES = {
  // The request itself
  bad_request: { status: 400, meaning: "The request could not be understood." },
  invalid_json: { status: 400, meaning: "The body is not valid JSON, or a required JSON body is missing." },
  invalid_multipart: { status: 400, meaning: "The multipart body could not be read." },
  invalid_cursor: { status: 400, meaning: "The page cursor is not one this server handed out." },
  invalid_filter: { status: 400, meaning: "A list filter in the query string is not one of its accepted values." },
  invalid_code: { status: 400, meaning: "The second-factor code is not right." },
  passkey_invalid: { status: 400, meaning: "The passkey's answer could not be verified." },
  validation_failed: { status: 422, meaning: "The body parsed but a field does not fit: the message names the field and what it accepts." },
  reason_required: { status: 422, meaning: "Staff must give a reason for this action; it goes to the audit log." },
  confirmation_mismatch: { status: 422, meaning: "The typed confirmation does not match what it confirms." },
  steps_incomplete: { status: 422, meaning: "An IDV session cannot be submitted before every step is complete." },
  method_not_allowed: { status: 405, meaning: "The path exists but not with this method; the Allow header lists the methods." },
  length_required: { status: 411, meaning: "A body of unknown length was sent where its length must be declared." },
  payload_too_large: { status: 413, meaning: "The body is larger than the route accepts (64 KiB unless the route says otherwise)." },
  unsupported_media_type: { status: 415, meaning: "The body's content type (or a photo's actual format) is not one the route accepts." },
  header_too_large: { status: 431, meaning: "The headers (16 KiB) or the User-Agent (1 KiB) are longer than allowed." },

  // Who is asking
  unauthorized: { status: 401, meaning: "Sign in first: the console session is missing or has ended." },
  invalid_api_key: { status: 401, meaning: "The API key is missing, unknown or revoked." },
  invalid_token: { status: 401, meaning: "The token is missing, malformed, forged or revoked." },
  token_expired: { status: 401, meaning: "The token was genuine but has expired." },
  insufficient_scope: { status: 403, meaning: "The API key is valid but lacks the scope this route needs (named in required_scope)." },
  forbidden: { status: 403, meaning: "You are not allowed to do this." },
  strong_auth_required: { status: 403, meaning: "Production actions need a second factor or single sign-on (an admin setting)." },

  // Telematics credentials (answered in the /v1 envelope, whose Key names the field)
  missing_instance_id: { status: 401, meaning: "The InstanceId header is missing." },
  missing_instance_key: { status: 401, meaning: "The InstanceKey header is missing." },
  unknown_instance: { status: 401, meaning: "No instance has this InstanceId." },
  invalid_instance_key: { status: 401, meaning: "The InstanceKey (or login Password) does not match the instance." },
  unknown_device_token: { status: 401, meaning: "No device with this DeviceToken is registered on the instance." },
  unknown_device: { status: 401, meaning: "The device a token names no longer exists." },
  device_disabled: { status: 401, meaning: "Staff have disabled this device." },
  missing_token: { status: 401, meaning: "The device JWT is missing from Authorization: Bearer." },
  invalid_refresh_token: { status: 401, meaning: "The refresh token is not valid for this device." },
  refresh_token_revoked: { status: 401, meaning: "The refresh token has been revoked; log in again." },
  refresh_token_expired: { status: 401, meaning: "The refresh token has expired; log in again." },
  refresh_token_reused: { status: 401, meaning: "A refresh token was presented again after it was rotated; the device's refresh tokens are revoked." },

  // What the request names
  not_found: { status: 404, meaning: "There is no such thing, or you may not see it." },
  user_not_found: { status: 404, meaning: "No such user in the key's environment and region." },
  session_not_found: { status: 404, meaning: "No such session, or it is not yours to see." },
  sign_in_token_not_found: { status: 404, meaning: "No such sign-in token." },
  workflow_not_found: { status: 404, meaning: "No workflow has this id." },
  step_not_found: { status: 404, meaning: "The workflow has no step with this id." },
  image_not_found: { status: 404, meaning: "No photo was captured for this step." },
  enrolment_expired: { status: 404, meaning: "The second-factor set-up has expired; start again." },
  webhook_endpoint_not_found: { status: 404, meaning: "No such webhook endpoint." },
  webhook_delivery_not_found: { status: 404, meaning: "No such webhook delivery." },

  // The state of things
  conflict: { status: 409, meaning: "The request conflicts with the current state." },
  client_user_id_taken: { status: 409, meaning: "A user with this client_user_id already exists; user_id names it." },
  email_taken: { status: 409, meaning: "A staff member with this email already exists." },
  workflow_exists: { status: 409, meaning: "A workflow with this id already exists." },
  user_disabled: { status: 409, meaning: "The user is disabled." },
  session_already_started: { status: 409, meaning: "This ephemeral token has already started its one session." },
  session_closed: { status: 409, meaning: "The session is submitted, expired or cancelled." },
  last_admin: { status: 409, meaning: "The change would leave no active admin." },
  self_disable: { status: 409, meaning: "Staff cannot disable themselves." },
  confirmation_required: { status: 409, meaning: "The change breaks something named in the message; repeat it with that confirmed." },
  second_factor_required: { status: 409, meaning: "The deployment requires a second factor: the last one cannot be removed." },
  totp_exists: { status: 409, meaning: "The member already uses an authenticator app." },
  passkey_exists: { status: 409, meaning: "This passkey is already registered." },
  no_second_factor: { status: 409, meaning: "Recovery codes need an authenticator app or a passkey first." },
  demo_self: { status: 409, meaning: "The demo team cannot be removed by a demo account." },
  no_own_admin: { status: 409, meaning: "The demo team cannot be removed while the deployment has no admin of its own." },
  webhook_delivery_pending: { status: 409, meaning: "The webhook delivery is still being attempted; it can be replayed once it has succeeded or failed." },
  webhook_endpoint_disabled: { status: 409, meaning: "The webhook endpoint is disabled; enable it to send a test event." },
  rate_limited: { status: 429, meaning: "Too many attempts; Retry-After says how many seconds to wait." },

  // Ours
  internal_error: { status: 500, meaning: "Something went wrong on our side; nothing was changed. Try again." },
  unavailable: { status: 503, meaning: "A dependency (the database) is not reachable right now." },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The table as Markdown: the README's "Error codes" section and the OpenAPI document's description. */
export function errorTableMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.meaning} |`);
  return ["| code | HTTP status | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

export class DomainError extends Error {
  override name = "DomainError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code].meaning,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = ERROR_CODES[code].status;
  }
}

export const rateLimited = (message: string, retryAfterSeconds: number) => new DomainError("rate_limited", message, { retryAfterSeconds });

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}

/**
 * How a field is named to a person: the `title` in its schema's metadata (`.meta({ title:
 * "Sign-in token lifetime" })`) when it has one — console forms title their fields, so a person
 * never reads `userId` or `JwtTtlSeconds` — and otherwise its path as the integrator spelled it on
 * the wire (`client_user_id`).
 */
function titleOf(schema: z.ZodType | undefined, path: PropertyKey[]): string | undefined {
  let node: unknown = schema;
  let title: string | undefined;
  const look = () => {
    const meta = node instanceof z.ZodType ? (node.meta() as { title?: unknown } | undefined) : undefined;
    if (typeof meta?.title === "string") title = meta.title;
  };
  const unwrap = () => {
    for (;;) {
      look();
      if (node instanceof z.ZodOptional || node instanceof z.ZodNullable || node instanceof z.ZodDefault) node = node.unwrap();
      else if (node instanceof z.ZodPipe) node = node.in;
      else return;
    }
  };
  for (const segment of path) {
    title = undefined;
    unwrap();
    if (node instanceof z.ZodObject) node = (node.shape as Record<string, unknown>)[String(segment)];
    else if (node instanceof z.ZodArray) node = node.element;
    else if (node instanceof z.ZodRecord) node = node.valueType;
    else return undefined;
  }
  title = undefined;
  unwrap();
  return path.length ? title : undefined;
}

export interface FieldProblem {
  /** The dotted path of the field, or null for the input as a whole. */
  field: string | null;
  /** One sentence: "Password must be at least 12 characters." */
  message: string;
}

/**
 * Every issue of a zod failure as a sentence naming its field. Zod messages in this code base are
 * written to follow the field's name ("must be …", "is required"); `subject` overrides how a field
 * is named (the audit filters say `Filter "from"`).
 */
export function zodProblems(error: z.ZodError, schema?: z.ZodType, subject?: (field: string) => string): FieldProblem[] {
  return error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.map(String).join(".") : null;
    const name = field === null ? null : (subject?.(field) ?? titleOf(schema, issue.path) ?? field);
    let text = name ? `${name} ${issue.message}` : issue.message;
    // A title starts the sentence with a capital; a wire name keeps its spelling.
    if (name === null || name !== field) text = text.charAt(0).toUpperCase() + text.slice(1);
    return { field, message: /[.?!]$/.test(text) ? text : `${text}.` };
  });
}

export interface FromZodOptions {
  /** `invalid_filter` for query-string filters of a list; `validation_failed` otherwise. */
  code?: "validation_failed" | "invalid_filter";
  subject?: (field: string) => string;
}

/**
 * The one way a zod failure becomes an error: `validation_failed` (422) with the first problem as
 * the message, its field in `extra.field`, and every field's sentence in `extra.fields` (forms show
 * each at its field).
 */
export function fromZodError(error: z.ZodError, schema?: z.ZodType, opts: FromZodOptions = {}): DomainError {
  const problems = zodProblems(error, schema, opts.subject);
  const fields: Record<string, string> = {};
  for (const p of problems) if (p.field && !(p.field in fields)) fields[p.field] = p.message;
  const first = problems[0];
  return new DomainError(opts.code ?? "validation_failed", first?.message, { ...(first?.field ? { field: first.field } : {}), fields });
}

/** Parses `value` with `schema`, throwing `fromZodError` when it does not fit. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, opts: FromZodOptions = {}): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZodError(parsed.error, schema, opts);
  return parsed.data;
}
