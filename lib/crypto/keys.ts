/**
 * Keys derived from TOKENDESK_SECRET, one per purpose, so that a leak of one derived key (say the
 * audit HMAC key) says nothing about another (say the token pepper).
 */
import { createHash, createHmac } from "node:crypto";
import { config } from "@/lib/config/env";

const cache = new Map<string, Buffer>();

export function derivedKey(purpose: "audit" | "token-pepper" | "signing-key-encryption" | "staff-session"): Buffer {
  const secret = config().secret;
  const cacheKey = `${purpose}\0${secret}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = createHmac("sha256", secret).update(`tokendesk:${purpose}:v1`).digest();
    cache.set(cacheKey, key);
  }
  return key;
}

/** The stored form of a token or key: HMAC-SHA256 peppered with TOKENDESK_SECRET, base64url. */
export function hashSecret(value: string): string {
  return createHmac("sha256", derivedKey("token-pepper")).update(value).digest("base64url");
}

export function sha256Base64url(value: string | Buffer): string {
  return createHash("sha256").update(value).digest("base64url");
}
