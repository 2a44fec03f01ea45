/**
 * Route-handler plumbing for the machine API (`/v2`, `/api`): JSON bodies with a size limit and a
 * zod schema, errors in the contract's `{"error": {"code", "message"}}` shape, and `withApiKey`,
 * the one wrapper that authenticates Team API keys and checks their scope.
 */
import type { z } from "zod";
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { ApiKey } from "@/db/schema";
import { type ApiKeyScope, apiKeyActor, authenticateApiKey } from "@/lib/api-keys";
import type { Actor, RequestMeta } from "@/lib/context";
import { DomainError, isDomainError } from "@/lib/errors";
import { requestMetaFrom } from "@/lib/next/request-meta";

export const MAX_JSON_BYTES = 64 * 1024;

export function jsonError(code: string, message: string, status: number, extra: Record<string, unknown> = {}, headers?: HeadersInit): Response {
  return Response.json({ error: { code, message, ...extra } }, { status, headers });
}

/** Maps anything thrown in a handler to the contract's JSON error; never leaks internals. */
export function errorResponse(err: unknown, meta?: RequestMeta): Response {
  if (isDomainError(err)) {
    const headers: Record<string, string> = {};
    if (typeof err.extra.retryAfterSeconds === "number") headers["Retry-After"] = String(err.extra.retryAfterSeconds);
    const { retryAfterSeconds: _r, field: _f, ...extra } = err.extra;
    return jsonError(err.code, err.message, err.status, extra, headers);
  }
  console.error(`request ${meta?.requestId ?? "?"} failed:`, err);
  return jsonError(
    "internal_error",
    "Something went wrong on our side; nothing was changed. Try again.",
    500,
    meta?.requestId ? { request_id: meta.requestId } : {},
  );
}

/** Reads at most `maxBytes` of the body, refusing more (413) without buffering it all. */
export async function readBodyBytes(req: Request, maxBytes: number, tooLarge = `The body is larger than ${maxBytes} bytes.`): Promise<Buffer> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new DomainError("payload_too_large", tooLarge, 413);
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new DomainError("payload_too_large", tooLarge, 413);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export async function readBodyText(req: Request, maxBytes = MAX_JSON_BYTES): Promise<string> {
  return (await readBodyBytes(req, maxBytes)).toString("utf8");
}

/** Formats the first zod issue as one sentence naming the field. */
export function describeZodError(error: z.ZodError): { message: string; field: string | null } {
  const issue = error.issues[0]!;
  const field = issue.path.length ? issue.path.join(".") : null;
  return { message: field ? `${field}: ${issue.message}` : issue.message, field };
}

/**
 * Parses a JSON body against `schema`. Malformed JSON → 400 `invalid_json`; a body that parses
 * but does not fit → 422 `validation_failed` naming the field. `optional` accepts an empty body.
 */
export async function readJson<S extends z.ZodType>(req: Request, schema: S, opts: { optional?: boolean; maxBytes?: number } = {}): Promise<z.infer<S>> {
  const text = await readBodyText(req, opts.maxBytes);
  let value: unknown;
  if (text.trim() === "") {
    if (!opts.optional) throw new DomainError("invalid_json", "The request needs a JSON body.", 400);
    value = {};
  } else {
    try {
      value = JSON.parse(text);
    } catch {
      throw new DomainError("invalid_json", "The body is not valid JSON.", 400);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { message, field } = describeZodError(parsed.error);
    throw new DomainError("validation_failed", message, 422, field ? { field } : {});
  }
  return parsed.data;
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

export function withApiKey<P = Record<string, string>>(
  scope: ApiKeyScope | null,
  handler: (req: Request, ctx: ApiKeyContext<P>) => Promise<Response>,
  opts: { headerForms?: KeyHeaderForms } = {},
) {
  return async (req: Request, routeCtx: { params: Promise<P> }): Promise<Response> => {
    const meta = requestMetaFrom(req.headers);
    try {
      const db = await getDb();
      const key = await authenticateApiKey(db, presentedApiKey(req, opts.headerForms), scope);
      return await handler(req, { key, actor: apiKeyActor(key), db, meta, params: await routeCtx.params });
    } catch (err) {
      return errorResponse(err, meta);
    }
  };
}

/** For handlers that authenticate another way: just the error mapping and the request meta. */
export function withErrors<P = Record<string, string>>(handler: (req: Request, ctx: { db: Database; meta: RequestMeta; params: P }) => Promise<Response>) {
  return async (req: Request, routeCtx: { params: Promise<P> }): Promise<Response> => {
    const meta = requestMetaFrom(req.headers);
    try {
      return await handler(req, { db: await getDb(), meta, params: await routeCtx.params });
    } catch (err) {
      return errorResponse(err, meta);
    }
  };
}
