/**
 * Keys derived from TOKENDESK_SECRET, one per purpose, so that a leak of one derived key (say the
 * audit HMAC key) says nothing about another (say the token pepper).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { config } from "@/lib/config/env";

const cache = new Map<string, Buffer>();

export type KeyPurpose = "audit" | "token-pepper" | "signing-key-encryption" | "webhook-secret-encryption" | "staff-session" | "staff-totp";

export function derivedKey(purpose: KeyPurpose): Buffer {
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

/** Encrypts a secret the server must read back (AES-256-GCM, random IV): iv | tag | body, base64url. */
export function sealSecret(purpose: KeyPurpose, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", derivedKey(purpose), iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

/** The inverse of `sealSecret`; throws if the value was altered or sealed under another key. */
export function openSecret(purpose: KeyPurpose, sealed: string): string {
  const raw = Buffer.from(sealed, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", derivedKey(purpose), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}
