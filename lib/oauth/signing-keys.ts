/**
 * JWT signing keys (ES256). Private keys live in the database encrypted with AES-256-GCM under a
 * key derived from TOKENDESK_SECRET, so every instance can sign and a database dump alone cannot.
 * Rotation demotes the current key to `previous`: it leaves the JWKS only after every token it
 * signed has expired, so resource servers keep verifying old tokens.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import * as jose from "jose";
import type { Database, Executor } from "@/db/client";
import { queryRows } from "@/db/client";
import { instances, type SigningKey, signingKeys } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { openSecret, sealSecret } from "@/lib/crypto/keys";
import { assertStaffCan } from "@/lib/staff/authorize";

export const SIGNING_ALG = "ES256";
const KEY_LOCK = 7_404_117_003;
/** How long an instance trusts its cached view of the keys before reading them again. */
const CACHE_MS = 10_000;

async function newKeyRow(): Promise<typeof signingKeys.$inferInsert> {
  const { publicKey, privateKey } = await jose.generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  const kid = await jose.calculateJwkThumbprint(publicJwk);
  const privateJwk = await jose.exportJWK(privateKey);
  return {
    kid,
    alg: SIGNING_ALG,
    publicJwk: { ...publicJwk, kid, alg: SIGNING_ALG, use: "sig" },
    privateJwkEncrypted: sealSecret("signing-key-encryption", JSON.stringify({ ...privateJwk, kid, alg: SIGNING_ALG })),
    status: "current",
  };
}

type Cache = { at: number; current: SigningKey | null; verifying: SigningKey[] };
const globalForKeys = globalThis as unknown as {
  __tokendeskKeys?: Cache;
  __tokendeskPrivateKeyObjects?: Map<string, KeyObject>;
  __tokendeskPublic?: Map<string, jose.CryptoKey | Uint8Array>;
};
globalForKeys.__tokendeskPrivateKeyObjects ??= new Map();
globalForKeys.__tokendeskPublic ??= new Map();
const privateKeys = globalForKeys.__tokendeskPrivateKeyObjects;
const publicKeys = globalForKeys.__tokendeskPublic;

/** When this process last re-read the keys for an unknown kid (see verificationKey). */
let lastForcedReload = Number.NEGATIVE_INFINITY;

export function clearSigningKeyCache(): void {
  globalForKeys.__tokendeskKeys = undefined;
  lastForcedReload = Number.NEGATIVE_INFINITY;
}

async function loadKeys(db: Executor, force = false): Promise<Cache> {
  const cached = globalForKeys.__tokendeskKeys;
  if (!force && cached && Date.now() - cached.at < CACHE_MS && cached.current) return cached;
  const rows = await db
    .select()
    .from(signingKeys)
    .where(inArray(signingKeys.status, ["current", "previous"]));
  const now = Date.now();
  const fresh: Cache = {
    at: now,
    current: rows.find((r) => r.status === "current") ?? null,
    verifying: rows.filter((r) => r.status === "current" || !r.retireAfter || r.retireAfter.getTime() > now),
  };
  globalForKeys.__tokendeskKeys = fresh;
  return fresh;
}

/** Creates the first signing key if there is none (under a lock, so two instances make one). */
export async function ensureSigningKey(db: Database): Promise<void> {
  if ((await loadKeys(db)).current) return;
  await db.transaction(async (tx) => {
    await queryRows(tx, sql`select pg_advisory_xact_lock(${KEY_LOCK})`);
    const [existing] = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(eq(signingKeys.status, "current"));
    if (!existing) await tx.insert(signingKeys).values(await newKeyRow());
  });
  await loadKeys(db, true);
}

/**
 * The key new tokens are signed with, as a Node KeyObject: jwt.ts signs with node:crypto's
 * synchronous `sign`, which costs less than half of WebCrypto's (a thread-pool job per signature).
 */
export async function currentSigningKey(db: Database): Promise<{ kid: string; key: KeyObject }> {
  let cache = await loadKeys(db);
  if (!cache.current) {
    await ensureSigningKey(db);
    cache = await loadKeys(db, true);
  }
  const row = cache.current!;
  let key = privateKeys.get(row.kid);
  if (!key) {
    key = es256PrivateKey(openSecret("signing-key-encryption", row.privateJwkEncrypted), row.kid);
    privateKeys.set(row.kid, key);
  }
  return { kid: row.kid, key };
}

/**
 * The KeyObject for a stored private JWK, refused unless it is a P-256 key. jose checked the curve
 * against the algorithm when it signed; node:crypto's `sign` does not, and would put an ES256 header
 * on a P-384 signature that no client can verify. tokendesk only ever generates P-256 keys, so this
 * guards against a key row edited or restored from elsewhere.
 */
export function es256PrivateKey(privateJwkJson: string, kid: string): KeyObject {
  const key = createPrivateKey({ key: JSON.parse(privateJwkJson) as import("node:crypto").webcrypto.JsonWebKey, format: "jwk" });
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "ec" || curve !== "prime256v1") {
    throw new Error(`Signing key ${kid} is not a P-256 (ES256) key (${key.asymmetricKeyType ?? "unknown"} ${curve ?? ""}).`);
  }
  return key;
}

/** Public keys for the JWKS: current and previous (until every token they signed has expired). */
export async function publicJwks(db: Executor): Promise<{ keys: jose.JWK[] }> {
  const cache = await loadKeys(db);
  return { keys: cache.verifying.map((k) => k.publicJwk as jose.JWK) };
}

/**
 * An unknown `kid` may be a key another instance has just rotated in, so the table is read again —
 * but at most once per FORCED_RELOAD_MS per process: a `kid` is the token's own word, and forged
 * tokens with made-up kids must not each cost a database read.
 */
const FORCED_RELOAD_MS = 5_000;

/** The public key for `kid`, re-reading the table (rate-limited, see above) if this instance has not seen it. */
export async function verificationKey(db: Executor, kid: string | undefined): Promise<jose.CryptoKey | Uint8Array | null> {
  if (!kid) return null;
  let row = (await loadKeys(db)).verifying.find((k) => k.kid === kid);
  if (!row && Date.now() - lastForcedReload >= FORCED_RELOAD_MS) {
    lastForcedReload = Date.now();
    row = (await loadKeys(db, true)).verifying.find((k) => k.kid === kid);
  }
  if (!row) return null;
  // Imported once per kid, not on every bearer call (a kid is the key's thumbprint: it never changes key).
  let key = publicKeys.get(kid);
  if (!key) {
    key = await jose.importJWK(row.publicJwk as jose.JWK, SIGNING_ALG);
    publicKeys.set(kid, key);
  }
  return key;
}

/** Longest lifetime of any JWT tokendesk signs: how long a previous key must stay published. */
async function longestTokenLifetimeSeconds(db: Executor): Promise<number> {
  const [sdk] = await queryRows<{ s: number | null }>(db, sql`select max(access_token_ttl_seconds) as s from environment_settings`);
  const [dev] = await db.select({ s: sql<number | null>`max(${instances.jwtTtlSeconds})` }).from(instances);
  return Math.max(3600, Number(sdk?.s ?? 0), Number(dev?.s ?? 0), 86_400);
}

export async function rotateSigningKey(db: Database, actor: Actor, meta: RequestMeta): Promise<{ kid: string; previousKid: string | null }> {
  assertStaffCan(actor, "settings:manage");
  const result = await db.transaction(async (tx) => {
    await queryRows(tx, sql`select pg_advisory_xact_lock(${KEY_LOCK})`);
    const now = new Date();
    const retireAfter = new Date(now.getTime() + (await longestTokenLifetimeSeconds(tx)) * 1000 + 60_000);
    // Previous keys whose tokens have all expired leave the JWKS now.
    await tx
      .update(signingKeys)
      .set({ status: "retired" })
      .where(and(eq(signingKeys.status, "previous"), lt(signingKeys.retireAfter, now)));
    const [old] = await tx.update(signingKeys).set({ status: "previous", retireAfter }).where(eq(signingKeys.status, "current")).returning();
    const fresh = await newKeyRow();
    await tx.insert(signingKeys).values(fresh);
    await recordAudit(
      tx,
      {
        actor,
        action: "signing_key.rotated",
        target: { type: "signing_key", id: fresh.kid },
        details: { kid: fresh.kid, previousKid: old?.kid ?? null, previousRetiresAfter: old ? retireAfter.toISOString() : null },
      },
      meta,
    );
    return { kid: fresh.kid, previousKid: old?.kid ?? null };
  });
  clearSigningKeyCache();
  return result;
}

export interface SigningKeyView {
  kid: string;
  alg: string;
  status: "current" | "previous" | "retired";
  createdAt: Date;
  retireAfter: Date | null;
}

/**
 * The published signing keys, for the settings page. Only public facts are selected: the encrypted
 * private part never leaves the database for this read.
 */
export async function listPublishedSigningKeys(db: Executor, actor: Actor, now: Date = new Date()): Promise<SigningKeyView[]> {
  assertStaffCan(actor, "settings:manage");
  const rows = await db
    .select({ kid: signingKeys.kid, alg: signingKeys.alg, status: signingKeys.status, createdAt: signingKeys.createdAt, retireAfter: signingKeys.retireAfter })
    .from(signingKeys)
    .where(inArray(signingKeys.status, ["current", "previous"]))
    .orderBy(desc(signingKeys.createdAt));
  // A previous key past its retirement is no longer in the JWKS even before the next rotation marks it.
  return rows.map((r) => ({ ...r, status: r.status === "previous" && r.retireAfter && r.retireAfter <= now ? "retired" : r.status }));
}
