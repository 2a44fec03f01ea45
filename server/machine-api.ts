/**
 * The machine API's JSON family (`/v2`, `/api`): JSON bodies with a size limit and a zod schema,
 * errors in the contract's `{"error": {"code", "message"}}` shape, and the wrappers that
 * authenticate a request — `withApiKey` (Team API keys and their scope), `withApiKeyOrBearer` (a key
 * or the user's own access token) and `withErrors` (handlers that authenticate another way).
 */
import type { z } from "zod";
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { ApiKey, User } from "@/db/schema";
import { type ApiKeyScope, apiKeyActor, authenticateApiKey } from "@/lib/api-keys";
import type { Actor, RequestMeta } from "@/lib/context";
import { DomainError, type ErrorCode, isDomainError, parseInput, statusOf } from "@/lib/errors";
import { log } from "@/lib/log";
import { authenticateBearer } from "@/lib/oauth/bearer";
import { jsonResponse, parseJsonText, type RouteHandler, readBodyText, requestMetaFrom } from "./http";
import { noteActor } from "./observe";

/** The JSON family's error answer; its status is the code's (lib/errors.ts), never the caller's choice. */
export function jsonError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}, headers?: HeadersInit): Response {
  return jsonResponse({ error: { code, message, ...extra } }, { status: statusOf(code), headers });
}

/** Maps anything thrown in a handler to the contract's JSON error; never leaks internals. */
export function errorResponse(err: unknown, meta?: RequestMeta): Response {
  if (isDomainError(err)) {
    const headers: Record<string, string> = {};
    if (typeof err.extra.retryAfterSeconds === "number") headers["Retry-After"] = String(err.extra.retryAfterSeconds);
    // RFC 6750 §3: a refused bearer token says so in the challenge, not only in the body.
    if (err.code === "invalid_token") headers["WWW-Authenticate"] = 'Bearer error="invalid_token"';
    // `field`/`fields` serve forms; the wire contract is {code, message} plus what a code adds (user_id, required_scope).
    const { retryAfterSeconds: _r, field: _f, fields: _fs, ...extra } = err.extra;
    return jsonError(err.code, err.message, extra, headers);
  }
  log().error({ err, requestId: meta?.requestId ?? null }, "request failed");
  return jsonError(
    "internal_error",
    "Something went wrong on our side; nothing was changed. Try again.",
    meta?.requestId ? { request_id: meta.requestId } : {},
  );
}

/**
 * Parses a JSON body against `schema`. Malformed JSON → 400 `invalid_json`; a body that parses
 * but does not fit → 422 `validation_failed` naming the field. `optional` accepts an empty body.
 */
export async function readJson<S extends z.ZodType>(req: Request, schema: S, opts: { optional?: boolean; maxBytes?: number } = {}): Promise<z.infer<S>> {
  const text = await readBodyText(req, opts.maxBytes);
  let value: unknown;
  if (text.trim() === "") {
    if (!opts.optional) throw new DomainError("invalid_json", "The request needs a JSON body.");
    value = {};
  } else {
    const json = parseJsonText(text);
    if (!json.ok) {
      if (json.kind === "text") throw new DomainError("validation_failed", json.message, json.field ? { field: json.field } : {});
      throw new DomainError("invalid_json", json.message);
    }
    value = json.value;
  }
  return parseInput(schema, value);
}

export interface ApiKeyContext<P> {
  key: ApiKey;
  actor: Actor;
  db: Database;
  meta: RequestMeta;
  params: P;
}

export type KeyHeaderForms = "vital" | "idv";

/**
 * The API key a request presents: `X-Vital-API-Key` always; for the IDV family also
 * `Authorization: ApiKey <key>` and a bare `Authorization: <key>`.
 */
export function presentedApiKey(req: Request, forms: KeyHeaderForms = "vital"): string | null {
  const vital = req.headers.get("x-vital-api-key");
  if (vital) return vital.trim();
  if (forms === "idv") {
    const auth = req.headers.get("authorization")?.trim();
    if (auth) return auth.replace(/^ApiKey\s+/i, "").trim();
  }
  return null;
}

/** `Authorization: Bearer <jwt>` → the token, or null when the header is absent or another scheme. */
export function bearerTokenOf(req: Request): string | null {
  const auth = req.headers.get("authorization")?.trim();
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m ? m[1]! : null;
}

export function withApiKey<P = Record<string, string>>(
  scope: ApiKeyScope | null,
  handler: (req: Request, ctx: ApiKeyContext<P>) => Promise<Response>,
  opts: { headerForms?: KeyHeaderForms } = {},
): RouteHandler<P> {
  return async (req, routeCtx) => {
    const meta = requestMetaFrom(req.headers);
    try {
      const db = await getDb();
      const key = await authenticateApiKey(db, presentedApiKey(req, opts.headerForms), scope, meta);
      const actor = apiKeyActor(key);
      noteActor(actor);
      return await handler(req, { key, actor, db, meta, params: await routeCtx.params });
    } catch (err) {
      return errorResponse(err, meta);
    }
  };
}

/** For handlers that authenticate another way: just the error mapping and the request meta. */
export function withErrors<P = Record<string, string>>(
  handler: (req: Request, ctx: { db: Database; meta: RequestMeta; params: P }) => Promise<Response>,
): RouteHandler<P> {
  return async (req, routeCtx) => {
    const meta = requestMetaFrom(req.headers);
    try {
      return await handler(req, { db: await getDb(), meta, params: await routeCtx.params });
    } catch (err) {
      return errorResponse(err, meta);
    }
  };
}

export interface KeyOrBearerContext<P> {
  actor: Actor;
  key: ApiKey | null;
  /** With a bearer token: the user's row, read by the same statement that checked the token. */
  bearerUser: User | null;
  db: Database;
  meta: RequestMeta;
  params: P;
}

/**
 * For user endpoints that accept either a Team API key (`X-Vital-API-Key`, with a scope) or the
 * user's own SDK access token (`Authorization: Bearer <jwt>`). The key wins when both are sent: an
 * SDK in API-key mode may carry a stale bearer header.
 */
export function withApiKeyOrBearer<P>(scope: ApiKeyScope, handler: (req: Request, ctx: KeyOrBearerContext<P>) => Promise<Response>): RouteHandler<P> {
  return async (req, routeCtx) => {
    const meta = requestMetaFrom(req.headers);
    try {
      const db = await getDb();
      const params = await routeCtx.params;
      const presented = presentedApiKey(req);
      const bearer = bearerTokenOf(req);
      if (!presented && bearer) {
        const who = await authenticateBearer(db, bearer);
        noteActor(who.actor);
        return await handler(req, { actor: who.actor, key: null, bearerUser: who.user, db, meta, params });
      }
      const key = await authenticateApiKey(db, presented, scope, meta);
      const actor = apiKeyActor(key);
      noteActor(actor);
      return await handler(req, { actor, key, bearerUser: null, db, meta, params });
    } catch (err) {
      return errorResponse(err, meta);
    }
  };
}
