/**
 * Team API key format, Vital-compatible: `sk_<region>_<secret>` (sandbox) or `pk_<region>_<secret>`
 * (production). The secret is 256 bits from a CSPRNG in base62 plus a 6-character CRC32 checksum,
 * so a secret scanner can recognise a leaked tokendesk key offline without asking the server.
 */
import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function base62(bytes: Buffer, width?: number): string {
  let n = BigInt(`0x${bytes.toString("hex") || "0"}`);
  let out = "";
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return width ? out.padStart(width, "0") : out || "0";
}

function checksum(body: string): string {
  const c = crc32(Buffer.from(body));
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(c >>> 0);
  return base62(buf, 6);
}

export const SECRET_BODY_LENGTH = 43; // ceil(256 / log2(62))

export function formatApiKey(environment: "sandbox" | "production", region: string): string {
  const head = `${environment === "sandbox" ? "sk" : "pk"}_${region}_`;
  const body = base62(randomBytes(32), SECRET_BODY_LENGTH);
  return `${head}${body}${checksum(head + body)}`;
}

export interface ParsedApiKey {
  environment: "sandbox" | "production";
  region: string;
}

/** Shape and checksum only: says whether a string is a well-formed tokendesk key, offline. */
export function parseApiKey(key: string): ParsedApiKey | null {
  const m = /^(sk|pk)_([a-z]{2,8})_([0-9A-Za-z]{49})$/.exec(key);
  if (!m) return null;
  const head = `${m[1]}_${m[2]}_`;
  const body = m[3]!.slice(0, SECRET_BODY_LENGTH);
  if (checksum(head + body) !== m[3]!.slice(SECRET_BODY_LENGTH)) return null;
  return { environment: m[1] === "sk" ? "sandbox" : "production", region: m[2]! };
}

/** What lists and audit events show of a key: enough to recognise it, nothing to use it. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, key.indexOf("_", 3) + 5);
}
