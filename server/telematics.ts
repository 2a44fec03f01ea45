/**
 * The telematics family's wire format (Damoov-compatible): every answer, success or error, is
 * `{"Result": ..., "Status": <http status>, "Title": "", "Errors": [{"Key", "Message"}]}` with the
 * fields in that order. Plain web-standard Response: usable from route handlers and tests alike.
 */
import { z } from "zod";
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { RequestMeta } from "@/lib/context";
import { isDomainError, zodProblems } from "@/lib/errors";
import { log } from "@/lib/log";
import { jsonResponse, parseJsonText, type RouteHandler, readBodyText, requestMetaFrom } from "./http";

export interface EnvelopeError {
  Key: string;
  Message: string;
}

export interface Envelope<T> {
  Result: T | null;
  Status: number;
  Title: string;
  Errors: EnvelopeError[];
}

const NO_STORE = { "Cache-Control": "no-store" };

export function envelope<T>(result: T, status = 200): Response {
  const body: Envelope<T> = { Result: result, Status: status, Title: "", Errors: [] };
  return jsonResponse(body, { status, headers: NO_STORE });
}

export function envelopeError(status: number, key: string, message: string, headers: Record<string, string> = {}): Response {
  const body: Envelope<null> = { Result: null, Status: status, Title: "", Errors: [{ Key: key, Message: message }] };
  return jsonResponse(body, { status, headers: { ...NO_STORE, ...headers } });
}

/** Maps anything thrown to an envelope; an unexpected error is logged (never with the request body). */
export function envelopeFromError(err: unknown, requestId: string | null): Response {
  if (isDomainError(err)) {
    const headers: Record<string, string> = {};
    if (typeof err.extra.retryAfterSeconds === "number") headers["Retry-After"] = String(err.extra.retryAfterSeconds);
    const key = typeof err.extra.field === "string" ? err.extra.field : err.status === 413 ? "body" : "request";
    return envelopeError(err.status, key, err.message, headers);
  }
  log().error({ err, requestId: requestId ?? null }, "request failed");
  return envelopeError(500, "server", "Something went wrong on our side; nothing was changed. Try again.");
}

/** A zod failure as a 422 naming the field (dotted path, as the integrator spelled it). */
export function validationError(error: z.ZodError, schema: z.ZodType): Response {
  const first = zodProblems(error, schema)[0]!;
  return envelopeError(422, first.field ?? "body", first.message);
}

export type ParsedBody<T> = { ok: true; value: T } | { ok: false; response: Response };

/** JSON text → schema, as envelope answers: empty/malformed JSON 400, wrong shape 422. */
export function parseJsonBody<S extends z.ZodType>(text: string, schema: S, opts: { optional?: boolean } = {}): ParsedBody<z.infer<S>> {
  let value: unknown;
  if (text.trim() === "") {
    if (!opts.optional) return { ok: false, response: envelopeError(400, "body", "The request needs a JSON body.") };
    value = {};
  } else {
    const json = parseJsonText(text);
    if (!json.ok) return { ok: false, response: envelopeError(json.kind === "text" ? 422 : 400, json.field ?? "body", json.message) };
    value = json.value;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, response: envelopeError(422, "body", "The body must be a JSON object.") };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, response: validationError(parsed.error, schema) };
  return { ok: true, value: parsed.data };
}

export const loginBody = z.object({
  LoginFields: z.string('must be a JSON string such as "{\\"Devicetoken\\":\\"...\\"}" (a string, not an object)'),
  Password: z.string("is required: send the InstanceKey").min(1, "is required: send the InstanceKey"),
});

/**
 * LoginFields is JSON inside a string. Its one key is spelled `Devicetoken` exactly, as the vendor
 * documents it; a different spelling is named in the error so the integrator can see the typo.
 */
export function parseLoginFields(loginFields: string): { ok: true; deviceToken: string } | { ok: false; response: Response } {
  const json = parseJsonText(loginFields);
  const inner: unknown = json.ok ? json.value : undefined;
  if (!json.ok) {
    if (json.kind === "text") {
      const key = json.field ? `LoginFields.${json.field}` : "LoginFields";
      return { ok: false, response: envelopeError(422, key, `${key} ${json.message.replace(/^.*? (contains|is not)/, "$1")}`) };
    }
    return {
      ok: false,
      response: envelopeError(422, "LoginFields", 'LoginFields is not valid JSON; send a JSON string such as {"Devicetoken":"<DeviceToken>"}.'),
    };
  }
  if (inner === null || typeof inner !== "object" || Array.isArray(inner)) {
    return { ok: false, response: envelopeError(422, "LoginFields", 'LoginFields must be a JSON object such as {"Devicetoken":"<DeviceToken>"}.') };
  }
  const record = inner as Record<string, unknown>;
  if (!Object.hasOwn(record, "Devicetoken")) {
    const misspelt = Object.keys(record).find((k) => k.toLowerCase() === "devicetoken");
    return {
      ok: false,
      response: envelopeError(
        422,
        "LoginFields.Devicetoken",
        misspelt
          ? `LoginFields has "${misspelt}" but the key is spelled "Devicetoken" (capital D, lower-case t).`
          : 'LoginFields must contain "Devicetoken" with the device\'s DeviceToken.',
      ),
    };
  }
  const token = record.Devicetoken;
  if (typeof token !== "string" || token.trim() === "" || token.length > 512) {
    return { ok: false, response: envelopeError(422, "LoginFields.Devicetoken", "LoginFields.Devicetoken must be the DeviceToken string.") };
  }
  return { ok: true, deviceToken: token.trim() };
}

export const refreshBody = z.object({
  AccessToken: z.string("is required: the current (possibly expired) JWT").min(1, "is required: the current (possibly expired) JWT").max(8192, "is too long"),
  RefreshToken: z.string("is required").min(1, "is required").max(512, "is too long"),
});

/**
 * The telematics route wrapper: request meta, the database, and every failure (including a body
 * over 64 KiB) answered in the envelope. Handlers only parse, call lib/devices and map the result.
 */
export function withEnvelope(
  handler: (req: Request, ctx: { db: Database; meta: RequestMeta; body: () => Promise<string> }) => Promise<Response>,
): RouteHandler<Record<string, never>> {
  return async (req) => {
    const meta = requestMetaFrom(req.headers);
    try {
      return await handler(req, { db: await getDb(), meta, body: () => readBodyText(req) });
    } catch (err) {
      return envelopeFromError(err, meta.requestId);
    }
  };
}

/** Other methods on a telematics path: 405 in the envelope rather than an empty body. */
export function methodNotAllowed(allowed: string): RouteHandler<Record<string, never>> {
  return async () => {
    const res = envelopeError(405, "method", `Use ${allowed} for this path.`);
    res.headers.set("Allow", allowed);
    return res;
  };
}
