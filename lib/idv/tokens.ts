/**
 * IDV ephemeral tokens: the bearer credential a handoff URL carries. A token reaches exactly one
 * IDV session and nothing else, and dies at its expiry (the sweeper deletes its row).
 *
 * Format: `et_<id hex>.<expiry, unix seconds base36>.<MAC, 256 bits base64url>`. The MAC is an
 * HMAC (keyed from TOKENDESK_SECRET) over id and expiry, which buys two things:
 *  - the server can tell a forged token from an expired one even after the row is gone, so a phone
 *    user is told "this link has expired" rather than "not valid" (and every later use answers
 *    401 `token_expired`, as the contract asks);
 *  - the short link /h/<code> can rebuild the handoff URL without the token ever being stored:
 *    the database holds only `hashSecret(token)`, and recomputing a token needs the secret.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { ephemeralTokens } from "@/db/schema";
import { derivedKey, hashSecret } from "@/lib/crypto/keys";
import { DomainError } from "@/lib/errors";

export const MIN_TOKEN_TTL = 60;
export const MAX_TOKEN_TTL = 86_400;
export const DEFAULT_TOKEN_TTL = 3600;

const TOKEN_RE = /^et_([0-9a-f]{32})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/;

/** A sub-key per purpose, so a handoff MAC never doubles as a stored-token hash. */
function idvKey(purpose: "token" | "short-link"): Buffer {
  return createHmac("sha256", derivedKey("token-pepper")).update(`tokendesk:idv:${purpose}:v1`).digest();
}

function mac(idHex: string, expSeconds: number): string {
  return createHmac("sha256", idvKey("token")).update(`${idHex}.${expSeconds}`).digest("base64url");
}

export function newTokenId(): string {
  // v4, not v7: the id is part of what the MAC covers and is better unguessable as well.
  return randomUUID();
}

/** The token string of a token row (id, expiry). Only the server can compute it. */
export function tokenFor(id: string, expiresAt: Date): string {
  const idHex = id.replace(/-/g, "");
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return `et_${idHex}.${exp.toString(36)}.${mac(idHex, exp)}`;
}

export interface ParsedToken {
  id: string;
  expiresAt: Date;
}

/** Checks shape and MAC; null for anything this server did not mint. */
export function parseToken(token: string): ParsedToken | null {
  const m = TOKEN_RE.exec(token);
  if (!m) return null;
  const [, idHex, exp36, given] = m as unknown as [string, string, string, string];
  const exp = Number.parseInt(exp36, 36);
  if (!Number.isSafeInteger(exp)) return null;
  const expected = Buffer.from(mac(idHex, exp));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  const id = `${idHex.slice(0, 8)}-${idHex.slice(8, 12)}-${idHex.slice(12, 16)}-${idHex.slice(16, 20)}-${idHex.slice(20)}`;
  return { id, expiresAt: new Date(exp * 1000) };
}

/** Short-link code of a session: 128 bits derived from the session id; stored only as a hash. */
export function shortCodeFor(sessionId: string): string {
  return createHmac("sha256", idvKey("short-link")).update(sessionId).digest("base64url").slice(0, 22);
}

export const invalidToken = () => new DomainError("invalid_token", "The authorization token is missing or not valid.");
export const tokenExpired = () => new DomainError("token_expired", "The authorization token has expired; ask for a new link.");

export type EphemeralTokenRow = typeof ephemeralTokens.$inferSelect;

/**
 * The live token row for a presented token, or 401: `invalid_token` for anything forged or
 * malformed, `token_expired` for a genuine token past its expiry or already destroyed
 * (swept, or cancelled by staff).
 */
export async function authenticateEphemeralToken(db: Executor, presented: string | null, now: Date = new Date()): Promise<EphemeralTokenRow> {
  if (!presented) throw invalidToken();
  const parsed = parseToken(presented);
  if (!parsed) throw invalidToken();
  if (parsed.expiresAt.getTime() <= now.getTime()) throw tokenExpired();
  const [row] = await db
    .select()
    .from(ephemeralTokens)
    .where(eq(ephemeralTokens.tokenHash, hashSecret(presented)));
  if (!row || row.id !== parsed.id || row.expiresAt.getTime() <= now.getTime()) throw tokenExpired();
  return row;
}
