/**
 * The OAuth family (`/oauth/*`): parameters from a form-encoded (RFC 6749) or JSON body,
 * RFC 6749 §5.2 error bodies, and `Cache-Control: no-store` on every answer, errors included.
 */
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { RequestMeta } from "@/lib/context";
import { isDomainError } from "@/lib/errors";
import { log } from "@/lib/log";
import { isOAuthError, OAuthError, oauthDescription } from "@/lib/oauth/errors";
import { jsonResponse, parseJsonText, type RouteHandler, readBodyText, requestMetaFrom, unfitText } from "./http";

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

export function oauthJson(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return jsonResponse(body, { status, headers: { ...NO_STORE, ...headers } });
}

export function oauthErrorResponse(err: unknown, meta: RequestMeta): Response {
  if (isOAuthError(err)) {
    const headers: Record<string, string> = err.error === "invalid_client" ? { "WWW-Authenticate": 'ApiKey realm="tokendesk"' } : {};
    if (err.retryAfterSeconds !== null) headers["Retry-After"] = String(err.retryAfterSeconds);
    return oauthJson({ error: err.error, error_description: err.description }, err.status, headers);
  }
  if (isDomainError(err)) {
    // Transport-level refusals (body too large, bad or too many bad API keys, missing scope) in the RFC 6749 shape.
    const error =
      err.code === "invalid_api_key" ? "invalid_client" : err.code === "insufficient_scope" || err.code === "rate_limited" ? err.code : "invalid_request";
    const headers: Record<string, string> = {};
    if (typeof err.extra.retryAfterSeconds === "number") headers["Retry-After"] = String(err.extra.retryAfterSeconds);
    return oauthJson({ error, error_description: oauthDescription(err.message) }, err.status, headers);
  }
  log().error({ err, requestId: meta.requestId }, "request failed");
  return oauthJson({ error: "server_error", error_description: "Something went wrong on our side; nothing was changed. Try again." }, 500);
}

/**
 * The request's parameters. Form-encoded is the standard; JSON objects of strings are accepted too.
 * A parameter sent twice is refused (RFC 6749 §3.2), as is any other content type.
 */
export async function readOAuthParams(req: Request): Promise<Record<string, string>> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const text = await readBodyText(req);
  const out: Record<string, string> = {};
  if (type === "application/x-www-form-urlencoded" || (type === "" && text.trim() === "")) {
    for (const [k, v] of new URLSearchParams(text)) {
      if (k in out) throw new OAuthError("invalid_request", `The parameter ${k} is repeated.`);
      const why = unfitText(k) ?? unfitText(v);
      if (why) throw new OAuthError("invalid_request", `A parameter ${why}.`);
      out[k] = v;
    }
    return out;
  }
  if (type === "application/json") {
    const json = parseJsonText(text);
    if (!json.ok) throw new OAuthError("invalid_request", json.kind === "text" ? "A parameter is not valid text (NUL or not Unicode)." : json.message);
    const value = json.value;
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new OAuthError("invalid_request", "The body must be a JSON object.");
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      if (typeof v !== "string") throw new OAuthError("invalid_request", `The parameter ${k} must be a string.`);
      out[k] = v;
    }
    return out;
  }
  throw new OAuthError("invalid_request", "Send the parameters form-encoded (application/x-www-form-urlencoded) or as JSON.");
}

export function requireParam(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (v === undefined || v === "") throw new OAuthError("invalid_request", `The ${name} parameter is required.`);
  return v;
}

export function withOAuth(handler: (req: Request, ctx: { db: Database; meta: RequestMeta }) => Promise<Response>): RouteHandler<Record<string, never>> {
  return async (req) => {
    const meta = requestMetaFrom(req.headers);
    try {
      return await handler(req, { db: await getDb(), meta });
    } catch (err) {
      return oauthErrorResponse(err, meta);
    }
  };
}
