/**
 * Signing and verifying tokendesk's JWTs (SDK access tokens, device JWTs) with the keys of
 * signing-keys.ts. Verification trusts nothing the token says about its own key: one algorithm,
 * our issuer, the expected audience, a `kid` from our own table, and no `jku`/`jwk`/`x5u`/`x5c`.
 */
import { randomUUID, sign } from "node:crypto";
import * as jose from "jose";
import type { Database, Executor } from "@/db/client";
import { config } from "@/lib/config/env";
import { currentSigningKey, SIGNING_ALG, verificationKey } from "./signing-keys";

export const SDK_AUDIENCE = "tokendesk";
export const DEVICE_AUDIENCE = "tokendesk-device";

export class JwtError extends Error {
  override name = "JwtError";
  constructor(
    readonly reason: "malformed" | "unsupported_header" | "unknown_key" | "bad_signature" | "expired" | "claims",
    message: string,
  ) {
    super(message);
  }
}

export interface SignedJwt {
  token: string;
  jti: string;
  iat: number;
  exp: number;
}

export async function signJwt(
  db: Database,
  claims: jose.JWTPayload,
  opts: { audience: string; subject: string; ttlSeconds: number; now?: Date },
): Promise<SignedJwt> {
  const { kid, key } = await currentSigningKey(db);
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const exp = iat + opts.ttlSeconds;
  const jti = randomUUID();
  // The JWS compact form (RFC 7515 §7.1) signed with node:crypto: what jose's SignJWT makes, without
  // its WebCrypto job (a thread-pool round trip per token). ES256's signature is r || s (ieee-p1363).
  const header = { alg: SIGNING_ALG, kid, typ: "JWT" };
  const payload = { ...claims, iss: config().publicUrl, aud: opts.audience, sub: opts.subject, iat, exp, jti };
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  const token = `${input}.${signature.toString("base64url")}`;
  return { token, jti, iat, exp };
}

const FORBIDDEN_HEADERS = ["jku", "jwk", "x5u", "x5c"] as const;

/** Header and claims without verifying anything: for the inspector and error messages only. */
export function decodeUnverified(token: string): { header: jose.ProtectedHeaderParameters; claims: jose.JWTPayload } {
  try {
    return { header: jose.decodeProtectedHeader(token), claims: jose.decodeJwt(token) };
  } catch {
    throw new JwtError("malformed", "This is not a JWT (three base64url parts with JSON header and claims).");
  }
}

type VerifiedClaims = jose.JWTPayload & { sub: string; jti: string; exp: number; iat: number };

/**
 * Tokens whose signature and claims already verified, by token text and audience. An SDK presents
 * the same access token on every call for its lifetime; an ES256 verify costs ~170 µs of CPU
 * (bench baseline `joseVerifyES256`), the lookup nothing. A hit is still refused when the token's
 * key is no longer trusted or the token has expired; everything else in it is covered by the
 * signature. Revocation is not cached: callers check the database (bearer.ts).
 */
const VERIFIED_CACHE_MAX = 10_000;
const verifiedCache = new Map<string, { claims: VerifiedClaims; kid: string }>();

function cachedVerification(cacheKey: string): { claims: VerifiedClaims; kid: string } | null {
  const hit = verifiedCache.get(cacheKey);
  if (!hit) return null;
  // Re-insert: Map iteration order then evicts the least recently used first.
  verifiedCache.delete(cacheKey);
  verifiedCache.set(cacheKey, hit);
  return hit;
}

function rememberVerification(cacheKey: string, claims: VerifiedClaims, kid: string): void {
  verifiedCache.set(cacheKey, { claims, kid });
  if (verifiedCache.size > VERIFIED_CACHE_MAX) verifiedCache.delete(verifiedCache.keys().next().value!);
}

export async function verifyJwt(db: Executor, token: string, opts: { audience: string; now?: Date; allowExpired?: boolean }): Promise<VerifiedClaims> {
  const cacheKey = `${config().publicUrl}\n${opts.audience}\n${token}`;
  const hit = cachedVerification(cacheKey);
  if (hit) {
    // The same text passed every check below before (its header is part of it); what can change
    // since is whether its key is still trusted and whether it has expired — as jose decides it:
    // expired once exp <= now - tolerance.
    if (!(await verificationKey(db, hit.kid))) throw new JwtError("unknown_key", "The token was not signed by any current tokendesk key.");
    const nowSeconds = Math.floor((opts.now ?? new Date()).getTime() / 1000);
    if (!opts.allowExpired && hit.claims.exp <= nowSeconds - 5) throw new JwtError("expired", "The token has expired.");
    return { ...hit.claims }; // a copy: no caller can alter what the next one is given
  }
  const { header } = decodeUnverified(token);
  if (header.alg !== SIGNING_ALG) throw new JwtError("unsupported_header", `The token's algorithm ${header.alg ?? "(none)"} is not accepted.`);
  for (const h of FORBIDDEN_HEADERS) {
    if (h in header) throw new JwtError("unsupported_header", `The token names its own key (${h}); tokendesk only trusts its own keys.`);
  }
  const key = await verificationKey(db, header.kid);
  if (!key) throw new JwtError("unknown_key", "The token was not signed by any current tokendesk key.");
  try {
    const { payload } = await jose.jwtVerify(token, key, {
      algorithms: [SIGNING_ALG],
      issuer: config().publicUrl,
      audience: opts.audience,
      currentDate: opts.now,
      requiredClaims: ["sub", "jti", "exp", "iat"],
      // A refresh call may present an expired JWT; its signature still has to hold.
      ...(opts.allowExpired ? { clockTolerance: 10 * 365 * 86_400 } : { clockTolerance: 5 }),
    });
    const claims = payload as VerifiedClaims;
    // Only what verified under the normal rules is remembered (an expired token let through for a
    // refresh call is not); `now` injected by a test must not seed the cache for real time either.
    if (!opts.allowExpired && !opts.now) rememberVerification(cacheKey, claims, header.kid!);
    return claims;
  } catch (err) {
    if (err instanceof jose.errors.JWTExpired) throw new JwtError("expired", "The token has expired.");
    if (err instanceof jose.errors.JWSSignatureVerificationFailed) throw new JwtError("bad_signature", "The token's signature does not verify.");
    if (err instanceof jose.errors.JWTClaimValidationFailed) throw new JwtError("claims", `The token's ${err.claim} claim is not valid here.`);
    throw new JwtError("malformed", "The token could not be verified.");
  }
}
