/**
 * Sign-in token format — opaque to the app, self-describing to the SDK:
 *
 *   sit_<environment>_<region>_<secret>
 *   e.g. sit_sandbox_eu_4mZ0...(43 base62 chars)...Xb91Qa
 *
 * - `environment` is `sandbox` or `production`, `region` a deployment region (`us`, `eu`, ...):
 *   an SDK reads both offline to check, before calling out, that a migration from its API key
 *   (`sk_<region>_` = sandbox, `pk_<region>_` = production) can succeed.
 * - `secret` is 256 bits from a CSPRNG in base62 (43 characters) followed by a 6-character base62
 *   CRC32 of everything before it, so a leaked token is recognisable offline and a mistyped one is
 *   refused without a database lookup. Only an HMAC of the whole token is stored.
 *
 * Refresh tokens are `rt_<43 base62><6 checksum>`: nothing to read in them, same strength.
 */
import { crc32 } from "node:zlib";
import { base62, SECRET_BODY_LENGTH } from "@/lib/api-keys/format";
import { secretBytes } from "@/lib/crypto/random";

function checksum(body: string): string {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(crc32(Buffer.from(body)) >>> 0);
  return base62(buf, 6);
}

function secretWithChecksum(head: string): string {
  const body = base62(secretBytes(32), SECRET_BODY_LENGTH);
  return `${head}${body}${checksum(head + body)}`;
}

function checksumHolds(head: string, tail: string): boolean {
  return checksum(head + tail.slice(0, SECRET_BODY_LENGTH)) === tail.slice(SECRET_BODY_LENGTH);
}

export interface ParsedSignInToken {
  environment: "sandbox" | "production";
  region: string;
}

export function formatSignInToken(environment: "sandbox" | "production", region: string): string {
  return secretWithChecksum(`sit_${environment}_${region}_`);
}

/** Shape and checksum only: which environment and region a token claims, or null if malformed. */
export function parseSignInToken(token: unknown): ParsedSignInToken | null {
  if (typeof token !== "string") return null;
  const m = /^sit_(sandbox|production)_([a-z]{2,8})_([0-9A-Za-z]{49})$/.exec(token);
  if (!m || !checksumHolds(`sit_${m[1]}_${m[2]}_`, m[3]!)) return null;
  return { environment: m[1] as ParsedSignInToken["environment"], region: m[2]! };
}

export function formatRefreshToken(): string {
  return secretWithChecksum("rt_");
}

export function isRefreshTokenShape(token: unknown): token is string {
  if (typeof token !== "string") return false;
  const m = /^rt_([0-9A-Za-z]{49})$/.exec(token);
  return Boolean(m && checksumHolds("rt_", m[1]!));
}
