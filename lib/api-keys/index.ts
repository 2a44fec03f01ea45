/**
 * Team API keys: created by admins (console or CLI), shown once, stored as a peppered hash,
 * authenticated by hash lookup, revoked with a reason. Every operation is audited.
 */
import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import { type Database, type Executor, queryRows } from "@/db/client";
import { columnsOf, rowOf } from "@/db/rows";
import { type ApiKey, apiKeys } from "@/db/schema";
import { installationsStillUsingKey, RECENT_USE_DAYS } from "@/lib/api-key-migration/report";
import { recordAudit } from "@/lib/audit/record";
import { config } from "@/lib/config/env";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { ENVIRONMENTS } from "@/lib/environments";
import { DomainError, parseInput, rateLimited } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { clientAddressOf, FailureLimit, humanDuration, type Limit } from "@/lib/rate-limit";
import { regions } from "@/lib/settings/regions";
import { assertStaffCan } from "@/lib/staff/authorize";
import { requireReason } from "@/lib/staff/reason";
import { apiKeyPrefix, formatApiKey, parseApiKey } from "./format";
import { API_KEY_SCOPES, type ApiKeyScope, insufficientScope } from "./scopes";

export { API_KEY_SCOPES, type ApiKeyScope, assertKeyScope, insufficientScope } from "./scopes";

export const createApiKeyInput = z.object({
  name: z.string().trim().min(1, "is required").max(100, "must be at most 100 characters").meta({ title: "Name" }),
  environment: z.enum(ENVIRONMENTS, "must be sandbox or production").meta({ title: "Environment" }),
  region: z
    .string()
    .refine((r) => regions().includes(r), `must be one of ${regions().join(", ")}`)
    .meta({ title: "Region" }),
  scopes: z.array(z.enum(API_KEY_SCOPES)).min(1, "are required: tick at least one").meta({ title: "Scopes" }),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

/** "all" or a comma list → scopes; unknown names are an error naming them. */
export function parseScopes(raw: string): ApiKeyScope[] {
  if (raw.trim() === "all") return [...API_KEY_SCOPES];
  const list = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new DomainError("validation_failed", `Unknown scope ${unknown.join(", ")}; scopes are ${API_KEY_SCOPES.join(", ")} or all.`);
  return list as ApiKeyScope[];
}

/** What may be shown of a key: never its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  environment: "sandbox" | "production";
  region: string;
  scopes: string[];
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokeReason: string | null;
}

export function toApiKeyView(k: ApiKey): ApiKeyView {
  return {
    id: k.id,
    name: k.name,
    environment: k.environment,
    region: k.region,
    scopes: k.scopes,
    prefix: k.prefix,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
    revokeReason: k.revokeReason,
  };
}

export async function createApiKey(db: Database, actor: Actor, input: CreateApiKeyInput, meta: RequestMeta): Promise<{ key: string; apiKey: ApiKeyView }> {
  assertStaffCan(actor, "api_keys:manage");
  const data = parseInput(createApiKeyInput, input);
  assertStaffCan(actor, "api_keys:manage", data.environment);
  const key = formatApiKey(data.environment, data.region);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        id: newId(),
        name: data.name,
        environment: data.environment,
        region: data.region,
        scopes: [...new Set(data.scopes)],
        prefix: apiKeyPrefix(key),
        keyHash: hashSecret(key),
        createdBy: actor.id,
      })
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: "api_key.created",
        target: { type: "api_key", id: row!.id },
        environment: row!.environment,
        details: { name: row!.name, prefix: row!.prefix, region: row!.region, scopes: row!.scopes },
      },
      meta,
    );
    return { key, apiKey: toApiKeyView(row!) };
  });
}

export async function listApiKeys(db: Executor, actor: Actor): Promise<ApiKeyView[]> {
  assertStaffCan(actor, "api_keys:manage");
  const rows = await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  return rows.map(toApiKeyView);
}

export async function getApiKey(db: Executor, id: string): Promise<ApiKey | null> {
  if (!z.uuid().safeParse(id).success) return null;
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row ?? null;
}

/**
 * Revokes a key. If app installations used it recently without migrating to sign-in tokens, the
 * caller must confirm how many will break (`confirmBreakingInstallations` equal to that number);
 * otherwise 409 `confirmation_required` names the number. The count and the confirmation are audited.
 */
export async function revokeApiKey(
  db: Database,
  actor: Actor,
  id: string,
  reason: string,
  meta: RequestMeta,
  opts: { confirmBreakingInstallations?: number | null; now?: Date } = {},
): Promise<ApiKeyView> {
  assertStaffCan(actor, "api_keys:manage");
  const why = requireReason(reason, "revoking the key");
  const view = await db.transaction(async (tx) => {
    const target = await getApiKey(tx, id);
    if (target) assertStaffCan(actor, "api_keys:manage", target.environment);
    const breaking = isUuid(id) ? await installationsStillUsingKey(tx, id, opts.now) : 0;
    if (breaking > 0 && opts.confirmBreakingInstallations !== breaking) {
      throw new DomainError(
        "confirmation_required",
        `${breaking} app installation${breaking === 1 ? "" : "s"} used this key in the last ${RECENT_USE_DAYS} days without migrating to sign-in tokens and will break. Confirm that to revoke it.`,
        { breakingInstallations: breaking, field: "confirmBreaking" },
      );
    }
    const details = { breakingInstallations: breaking, confirmedBreakingInstallations: breaking > 0 };
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: new Date(), revokedBy: actor.id, revokeReason: why.slice(0, 500) })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (!row) {
      const existing = await getApiKey(tx, id);
      if (!existing) throw new DomainError("not_found", "No such API key.");
      return toApiKeyView(existing); // already revoked: nothing to do, nothing to audit
    }
    await recordAudit(
      tx,
      {
        actor,
        action: "api_key.revoked",
        target: { type: "api_key", id: row.id },
        environment: row.environment,
        reason: why,
        details: { name: row.name, prefix: row.prefix, ...details },
      },
      meta,
    );
    return toApiKeyView(row);
  });
  // Once committed: this instance refuses the key from its next request on (see verifiedKeys).
  forgetVerifiedKey(id);
  return view;
}

export const invalidApiKey = () => new DomainError("invalid_api_key", "The API key is missing, unknown or revoked.");

/**
 * Failed API-key authentications per client address (FailureLimit: only failures are counted, so a
 * busy backend's good traffic never meets this limit). Past it, failures are answered 429 with
 * Retry-After instead of 401 until the minute is over, and cost no further write.
 */
export const API_KEY_FAILURE_LIMIT: Limit = { max: 30, windowSeconds: 60 };
const apiKeyFailures = new FailureLimit(API_KEY_FAILURE_LIMIT);

/** For tests that exercise the limit: forget which addresses this process saw blocked. */
export function forgetApiKeyFailureBlocks(): void {
  apiKeyFailures.forget();
}

async function refuseApiKey(db: Executor, meta: RequestMeta | undefined): Promise<never> {
  const address = meta ? clientAddressOf(meta) : null;
  if (address) {
    const refused = await apiKeyFailures.fail(db, [`api-key:ip:${address}`]);
    if (refused) {
      throw rateLimited(
        `Too many requests with a missing, unknown or revoked API key from this address; try again in ${humanDuration(refused.retryAfterSeconds)}.`,
        refused.retryAfterSeconds,
      );
    }
  }
  throw invalidApiKey();
}

/** Per process: when each key's `last_used_at` was last stamped, so a busy key costs no write. */
const LAST_USED_EVERY_MS = 60_000;
const lastStamped = new Map<string, number>();

/**
 * Keys this instance has verified recently, by the presented secret's hash: a backend sends the same
 * key on every call, and reading its row again each time costs a database round trip (a third of
 * a mint's CPU went to the driver). An entry is trusted for `API_KEY_CACHE_MS` (configuration, 5 s by
 * default, 0 = no cache) after the read that made it. Revocation through revokeApiKey removes the key
 * here as soon as it commits, so this instance refuses it from the next request; another instance
 * refuses it within that bound (its entry expires; README "API keys"). Unknown and revoked keys are
 * never remembered: every refusal reads the table. Keys' scopes never change after creation, so a
 * remembered row's scopes are its current ones.
 */
const VERIFIED_KEYS_MAX = 1_000;
/**
 * On globalThis: the console's revocation runs in Next's bundle of this module and the machine API in
 * server.ts's, two module instances in one process that must share what they forget.
 * `revocations` is bumped by every revocation: a lookup that began before it does not remember what
 * it read.
 */
const shared = globalThis as unknown as { __tokendeskVerifiedKeys?: { keys: Map<string, { row: ApiKey; until: number }>; revocations: number } };
shared.__tokendeskVerifiedKeys ??= { keys: new Map(), revocations: 0 };
const verified = shared.__tokendeskVerifiedKeys;
const verifiedKeys = verified.keys;

/** This instance forgets the key at once (called when its revocation has committed). */
export function forgetVerifiedKey(id: string): void {
  verified.revocations++;
  for (const [hash, entry] of verifiedKeys) if (entry.row.id === id) verifiedKeys.delete(hash);
}

/**
 * Finds the live key for a presented secret, or throws 401 `invalid_api_key` / 403
 * `insufficient_scope` (429 `rate_limited` once the client's address has failed too often; `meta`
 * names the address). A malformed or bad-checksum key is refused without a key lookup.
 */
export async function authenticateApiKey(
  db: Executor,
  presented: string | null,
  scope: ApiKeyScope | null,
  meta?: RequestMeta,
  /** Tests: an injectable clock (ms since the epoch) and cache bound (default: configuration). */
  opts: { now?: number; cacheMs?: number } = {},
): Promise<ApiKey> {
  if (!presented || !parseApiKey(presented)) return refuseApiKey(db, meta);
  const now = opts.now ?? Date.now();
  const hash = hashSecret(presented);
  let row = verifiedKeys.get(hash)?.row ?? null;
  if (row && verifiedKeys.get(hash)!.until <= now) {
    verifiedKeys.delete(hash);
    row = null;
  }
  if (!row) {
    const epoch = verified.revocations;
    // Every API call runs this: an `sql` template, not the query builder (db/rows.ts says why).
    const [raw] = await queryRows<Record<string, unknown>>(db, sql`select ${columnsOf(apiKeys)} from api_keys where key_hash = ${hash}`, {
      prepare: true,
    });
    row = raw ? rowOf(apiKeys, raw) : null;
    if (!row || row.revokedAt) return refuseApiKey(db, meta);
    const cacheMs = opts.cacheMs ?? config().apiKeyCacheMs;
    if (cacheMs > 0 && epoch === verified.revocations) {
      verifiedKeys.set(hash, { row, until: now + cacheMs });
      if (verifiedKeys.size > VERIFIED_KEYS_MAX) verifiedKeys.delete(verifiedKeys.keys().next().value!);
    }
  }
  if (scope && !row.scopes.includes(scope)) throw insufficientScope(scope);
  // Stamp last use at most once a minute per key: a write per request would make every API call
  // contend on the same row. The in-process map skips even the no-op UPDATE between stamps; the
  // WHERE clause keeps several processes from stamping more often than that between them.
  if (now - (lastStamped.get(row.id) ?? 0) >= LAST_USED_EVERY_MS) {
    lastStamped.set(row.id, now);
    if (lastStamped.size > 10_000) lastStamped.clear();
    void db
      .update(apiKeys)
      .set({ lastUsedAt: new Date() })
      .where(and(eq(apiKeys.id, row.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '60 seconds'`))))
      .catch(() => lastStamped.delete(row.id));
  }
  return row;
}

export function apiKeyActor(k: ApiKey): Extract<Actor, { type: "api_key" }> {
  return { type: "api_key", id: k.id, name: `${k.name} (${k.prefix}…)`, environment: k.environment, region: k.region, scopes: k.scopes };
}
