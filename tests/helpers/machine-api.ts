/**
 * Helpers for HTTP tests of the machine API (/v2 users, sign-in tokens, /oauth): the shared test
 * server's URL and database, Team API keys minted straight into that database, and small wrappers
 * over fetch. Every helper creates its own users and keys: test files share one server.
 */
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { API_KEY_SCOPES, type ApiKeyScope, createApiKey } from "@/lib/api-keys";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { assertDocumented } from "./openapi";

export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
export const SIGN_IN_TOKEN_TYPE = "urn:tokendesk:params:oauth:token-type:sign-in-token";

export const baseUrl = () => inject("baseUrl");

export async function openTestDb(): Promise<DatabaseHandle> {
  return openDatabase({ databaseUrl: inject("databaseUrl"), maxConnections: 4 });
}

export const uniq = (prefix: string) => `${prefix}-${randomBytes(5).toString("hex")}`;

export async function mintKey(
  handle: DatabaseHandle,
  opts: { environment?: "sandbox" | "production"; region?: string; scopes?: ApiKeyScope[] } = {},
): Promise<{ key: string; id: string; prefix: string }> {
  const { key, apiKey } = await createApiKey(
    handle.db,
    systemActor("http test"),
    { name: uniq("test key"), environment: opts.environment ?? "sandbox", region: opts.region ?? "us", scopes: opts.scopes ?? [...API_KEY_SCOPES] },
    NO_REQUEST,
  );
  return { key, id: apiKey.id, prefix: apiKey.prefix };
}

export interface CallOptions {
  method?: string;
  key?: string;
  bearer?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export async function call(path: string, opts: CallOptions = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers["X-Vital-API-Key"] = opts.key;
  if (opts.bearer) headers.Authorization = `Bearer ${opts.bearer}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers["Content-Type"] ??= "application/json";
  }
  const method = opts.method ?? (body !== undefined ? "POST" : "GET");
  const res = await fetch(`${baseUrl()}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  // Every answer the suite receives must be what /openapi.json documents for it.
  await assertDocumented(baseUrl(), method, path, res.status, res.headers.get("content-type"), parsed);
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A form-encoded POST, as OAuth clients send it. */
export function form(path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  return call(path, { body: new URLSearchParams(params).toString(), headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers } });
}

export async function createUserOver(key: string, fields: Record<string, unknown> = {}): Promise<{ user_id: string; client_user_id: string }> {
  const res = await call("/v2/user", { key, json: { client_user_id: uniq("client"), ...fields } });
  if (res.status !== 200) throw new Error(`POST /v2/user → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function issueOver(key: string, userId: string, json: Record<string, unknown> = {}): Promise<string> {
  const res = await call(`/v2/user/${userId}/sign_in_token`, { key, json });
  if (res.status !== 200) throw new Error(`sign_in_token → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.sign_in_token;
}

export function exchangeOver(signInToken: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return form("/oauth/token", { grant_type: TOKEN_EXCHANGE, subject_token: signInToken, subject_token_type: SIGN_IN_TOKEN_TYPE, ...extra }, headers);
}

export function refreshOver(refreshToken: string) {
  return form("/oauth/token", { grant_type: "refresh_token", refresh_token: refreshToken });
}
