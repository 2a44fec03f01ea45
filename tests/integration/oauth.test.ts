/**
 * The OAuth token service in the domain core, on PGlite and PostgreSQL, with an injected clock:
 * rotation and its grace window, reuse after the window ending the family, the absolute lifetime,
 * revocation and introspection, API-key installations and the migration exchange.
 */
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { apiKeyInstallations, apiKeys, auditEvents, refreshTokens, sdkSessions, signInTokens, signingKeys, users } from "@/db/schema";
import { API_KEY_FAILURE_LIMIT, apiKeyActor, authenticateApiKey, createApiKey } from "@/lib/api-keys";
import { type RequestMeta, systemActor } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import type { DomainError } from "@/lib/errors";
import { authenticateBearer } from "@/lib/oauth/bearer";
import { OAuthError } from "@/lib/oauth/errors";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { GRANT_FAILURE_LIMIT_PER_ADDRESS, GRANT_FAILURE_LIMIT_PER_CLIENT, limitGrantFailures } from "@/lib/oauth/grant-limits";
import { introspectToken } from "@/lib/oauth/introspect";
import { verifyJwt } from "@/lib/oauth/jwt";
import { recordApiKeyInstallation } from "@/lib/oauth/migration";
import { refreshSdkSession, rotateOnFirstUse } from "@/lib/oauth/refresh";
import { revokeToken } from "@/lib/oauth/revoke";
import { clearSigningKeyCache, ensureSigningKey } from "@/lib/oauth/signing-keys";
import { updateSettings } from "@/lib/settings";
import { DEFAULT_SETTINGS } from "@/lib/settings/row";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { createUser } from "@/lib/users";
import { createTestDatabase, type TestDatabase, untilWaitingForLock } from "../helpers/db";

const system = systemActor("test");
const meta: RequestMeta = { requestId: "req-oauth", ip: null, userAgent: "vitest" };
/** Everything in audit rows as text (txid is a bigint). */
const dump = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

let t: TestDatabase;
let n = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  clearSigningKeyCache();
  await ensureSigningKey(t.db);
});
afterAll(async () => {
  clearSigningKeyCache();
  await t.close();
});

async function setup(environment: "sandbox" | "production" = "sandbox", region = "us") {
  const { key } = await createApiKey(
    t.db,
    system,
    { name: `k${++n}`, environment, region, scopes: ["users:read", "users:write", "sign_in_tokens:write", "tokens:introspect"] },
    meta,
  );
  const actor = apiKeyActor(await authenticateApiKey(t.db, key, null));
  const user = await createUser(t.db, actor, { client_user_id: `client-${n}-${Math.random()}` }, meta);
  return { key, actor, user };
}

async function grantError(p: Promise<unknown>): Promise<OAuthError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  return err as OAuthError;
}

describe("refresh rotation", () => {
  it("rotates, accepts a retry inside the grace window, and ends the family on reuse after it", async () => {
    const { actor, user } = await setup();
    const t0 = new Date();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, { now: t0 }, meta);
    const first = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta, { now: t0 });
    const t1 = new Date(t0.getTime() + 60_000);
    const second = await refreshSdkSession(t.db, first.refresh_token, meta, { now: t1 });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    // A lost response retried 5 s later (default grace 10 s): another token of the same family, replacing `second`.
    const retry = await refreshSdkSession(t.db, first.refresh_token, meta, { now: new Date(t1.getTime() + 5_000) });
    const sid = (await authenticateBearer(t.db, second.access_token, { now: t1 })).sessionId;
    expect((await authenticateBearer(t.db, retry.access_token, { now: t1 })).sessionId).toBe(sid);

    const late = await grantError(refreshSdkSession(t.db, first.refresh_token, meta, { now: new Date(t1.getTime() + 11_000) }));
    expect(late.error).toBe("invalid_grant");
    expect(late.description).toMatch(/^refresh_token_reused/);
    for (const rt of [second.refresh_token, retry.refresh_token]) {
      expect((await grantError(refreshSdkSession(t.db, rt, meta, { now: new Date(t1.getTime() + 12_000) }))).description).toMatch(/^session_revoked/);
    }
    const [ev] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "refresh_token.reuse_detected"), eq(auditEvents.targetId, sid)));
    expect(ev).toMatchObject({ outcome: "denied", environment: "sandbox" });
    expect(dump(ev)).not.toContain(first.refresh_token);
  });

  /** The family's refresh tokens that a refresh would accept as the newest (not used, not replaced). */
  async function liveTokens(sessionId: string) {
    return queryRows<{ token_hash: string }>(
      t.db,
      sql`select token_hash from refresh_tokens where session_id = ${sessionId}::uuid and rotated_at is null and replaced_at is null`,
    );
  }

  it("a retry inside the window replaces the successor: one live token per family, and the replaced one is reuse", async () => {
    const { actor, user } = await setup();
    const t0 = new Date();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, { now: t0 }, meta);
    const first = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta, { now: t0 });
    const sid = (await authenticateBearer(t.db, first.access_token, { now: t0 })).sessionId;
    const t1 = new Date(t0.getTime() + 60_000);
    const a1 = await refreshSdkSession(t.db, first.refresh_token, meta, { now: t1 });
    // The same old token again inside the window (a replay, or a lost response): B1 replaces A1.
    const b1 = await refreshSdkSession(t.db, first.refresh_token, meta, { now: new Date(t1.getTime() + 3_000) });
    expect(await liveTokens(sid)).toEqual([{ token_hash: hashSecret(b1.refresh_token) }]);
    const [a1Row] = await t.db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, hashSecret(a1.refresh_token)));
    expect(a1Row!.replacedAt).not.toBeNull();

    // A1's holder refreshes: A1 was replaced, so this is reuse: the whole family ends, B1 included.
    const err = await grantError(refreshSdkSession(t.db, a1.refresh_token, meta, { now: new Date(t1.getTime() + 4_000) }));
    expect(err.description).toMatch(/^refresh_token_reused:/);
    expect((await grantError(refreshSdkSession(t.db, b1.refresh_token, meta, { now: new Date(t1.getTime() + 5_000) }))).description).toMatch(
      /^session_revoked/,
    );
    const reuse = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "refresh_token.reuse_detected"), eq(auditEvents.targetId, sid)));
    expect(reuse).toHaveLength(1);
    expect(reuse[0]!.details).toMatchObject({ why: "replaced", refreshTokenId: a1Row!.id });
  });

  it("the previous token inside its window is reuse once its successor has been used", async () => {
    const { actor, user } = await setup();
    const t0 = new Date();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, { now: t0 }, meta);
    const first = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta, { now: t0 });
    const a1 = await refreshSdkSession(t.db, first.refresh_token, meta, { now: t0 });
    const a2 = await refreshSdkSession(t.db, a1.refresh_token, meta, { now: new Date(t0.getTime() + 1_000) });
    const err = await grantError(refreshSdkSession(t.db, first.refresh_token, meta, { now: new Date(t0.getTime() + 2_000) }));
    expect(err.description).toMatch(/^refresh_token_reused:/);
    expect((await grantError(refreshSdkSession(t.db, a2.refresh_token, meta, { now: new Date(t0.getTime() + 3_000) }))).description).toMatch(
      /^session_revoked/,
    );
  });

  it("rotates a first use in one statement, and leaves every other case to the full path untouched", async () => {
    const { actor, user } = await setup();
    const staffAdmin = { type: "staff", id: "s-admin", name: "admin", role: "admin" } as const;
    await updateSettings(t.db, staffAdmin, "sandbox", { ...DEFAULT_SETTINGS, refreshGraceSeconds: 7 }, meta);
    try {
      const session = async () => {
        const { signInToken } = await issueSignInToken(t.db, actor, user.id, {}, meta);
        const tokens = await exchangeSignInToken(t.db, { signInToken }, meta);
        return { tokens, sid: (await authenticateBearer(t.db, tokens.access_token)).sessionId };
      };
      const t1 = new Date(Date.now() + 60_000);
      const { tokens, sid } = await session();
      const rotated = await rotateOnFirstUse(t.db, tokens.refresh_token, { ...meta, ip: "203.0.113.9" }, t1);
      expect(rotated).toMatchObject({ session: { id: sid, userId: user.id }, accessTtl: 3600 });
      // The same rows the full path writes: the successor is the live token, the presented one points
      // at it with the environment's grace window, the session carries the time and address of the use.
      expect(await liveTokens(sid)).toEqual([{ token_hash: hashSecret(rotated!.refreshToken) }]);
      const [presented] = await t.db
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, hashSecret(tokens.refresh_token)));
      expect(presented!.rotatedAt?.getTime()).toBe(t1.getTime());
      expect(presented!.graceUntil?.getTime()).toBe(t1.getTime() + 7_000);
      const [successor] = await t.db.select().from(refreshTokens).where(eq(refreshTokens.id, presented!.successorId!));
      expect(successor!.tokenHash).toBe(hashSecret(rotated!.refreshToken));
      const [stamped] = await t.db.select().from(sdkSessions).where(eq(sdkSessions.id, sid));
      expect(stamped).toMatchObject({ lastRefreshAt: t1, lastIp: "203.0.113.9" });

      // A used token (a retry inside the window is the full path's), an unknown one, a revoked
      // session, an expired one and a disabled user: the statement writes nothing.
      const before = await queryRows(t.db, sql`select id, rotated_at, replaced_at, successor_id from refresh_tokens order by id`);
      expect(await rotateOnFirstUse(t.db, tokens.refresh_token, meta, new Date(t1.getTime() + 1_000))).toBeNull();
      expect(await rotateOnFirstUse(t.db, `${tokens.refresh_token.slice(0, -4)}AAAA`, meta, t1)).toBeNull();
      expect(await rotateOnFirstUse(t.db, rotated!.refreshToken, meta, new Date(t1.getTime() + 400 * 86_400_000))).toBeNull();
      await t.db.update(sdkSessions).set({ revokedAt: new Date(), revokeReason: "test" }).where(eq(sdkSessions.id, sid));
      expect(await rotateOnFirstUse(t.db, rotated!.refreshToken, meta, t1)).toBeNull();
      const other = await session();
      await t.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, user.id));
      const afterSecondSession = await queryRows(t.db, sql`select id, rotated_at, replaced_at, successor_id from refresh_tokens order by id`);
      expect(await rotateOnFirstUse(t.db, other.tokens.refresh_token, meta, t1)).toBeNull();
      expect(await queryRows(t.db, sql`select id, rotated_at, replaced_at, successor_id from refresh_tokens order by id`)).toEqual(afterSecondSession);
      expect(afterSecondSession.length).toBe(before.length + 1);
      // The full path then names each case as before.
      expect((await grantError(refreshSdkSession(t.db, other.tokens.refresh_token, meta, { now: t1 }))).description).toMatch(/^user_disabled:/);
    } finally {
      await updateSettings(t.db, staffAdmin, "sandbox", { ...DEFAULT_SETTINGS }, meta);
    }
  });

  it("40 concurrent refreshes with one token inside the window: all answered, one live token, no reuse", async () => {
    const { actor, user } = await setup();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, {}, meta);
    const first = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta);
    const sid = (await authenticateBearer(t.db, first.access_token)).sessionId;
    const results = await Promise.all(Array.from({ length: 40 }, () => refreshSdkSession(t.db, first.refresh_token, meta)));
    const live = await liveTokens(sid);
    expect(live).toHaveLength(1);
    const winner = results.find((r) => hashSecret(r.refresh_token) === live[0]!.token_hash);
    expect(winner).toBeDefined();
    const reuse = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "refresh_token.reuse_detected"), eq(auditEvents.targetId, sid)));
    expect(reuse).toHaveLength(0);
    // The live one carries the family on.
    const next = await refreshSdkSession(t.db, winner!.refresh_token, meta);
    expect(await liveTokens(sid)).toEqual([{ token_hash: hashSecret(next.refresh_token) }]);
  });

  it("names the user's state when a concurrent disable ended the session while the refresh waited for it", async () => {
    // A disabling transaction holds the session row when the refresh asks for it; once it commits,
    // the refresh's statement sees the ended session but the user row of its own, older snapshot.
    // (On PostgreSQL the refresh really waits; PGlite runs one transaction at a time, so there it
    // simply comes after.)
    const { actor, user } = await setup();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, {}, meta);
    const tokens = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const disabling = t.db.transaction(async (tx) => {
      await tx.update(sdkSessions).set({ revokedAt: new Date(), revokeReason: "user_disabled" }).where(eq(sdkSessions.userId, user.id));
      await tx.update(users).set({ disabledAt: new Date() }).where(eq(users.id, user.id));
      locked();
      await held;
    });
    await isLocked;
    const refreshed = refreshSdkSession(t.db, tokens.refresh_token, meta).then(
      () => null,
      (e: OAuthError) => e,
    );
    await untilWaitingForLock(t);
    release();
    await disabling;
    expect((await refreshed)?.description).toMatch(/^user_disabled:/);
  });

  it("ends at the absolute lifetime whatever the refreshes", async () => {
    const { actor, user } = await setup();
    const t0 = new Date();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, { now: t0 }, meta);
    const first = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta, { now: t0 });
    const nearlyAYear = new Date(t0.getTime() + 364 * 86_400_000);
    const next = await refreshSdkSession(t.db, first.refresh_token, meta, { now: nearlyAYear });
    const err = await grantError(refreshSdkSession(t.db, next.refresh_token, meta, { now: new Date(t0.getTime() + 366 * 86_400_000) }));
    expect(err.description).toMatch(/^session_expired/);
  });

  it("refuses an access token on tokendesk's own API once its session passed its absolute lifetime", async () => {
    const { actor, user } = await setup();
    const t0 = new Date();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, { now: t0 }, meta);
    const first = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta, { now: t0 });
    const sessionEnds = new Date(t0.getTime() + 365 * 86_400_000);
    // Refreshed ten minutes before the end: this access token's own exp reaches 50 minutes past it.
    const last = await refreshSdkSession(t.db, first.refresh_token, meta, { now: new Date(sessionEnds.getTime() - 600_000) });
    await expect(authenticateBearer(t.db, last.access_token, { now: new Date(sessionEnds.getTime() - 1000) })).resolves.toBeTruthy();
    await expect(authenticateBearer(t.db, last.access_token, { now: new Date(sessionEnds.getTime() + 1000) })).rejects.toMatchObject({
      code: "invalid_token",
      message: expect.stringMatching(/^session_expired:/),
    });
  });

  it("refuses an expired access token by the injected clock", async () => {
    const { actor, user } = await setup();
    const t0 = new Date();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, { now: t0 }, meta);
    const tokens = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta, { now: t0 });
    await expect(authenticateBearer(t.db, tokens.access_token, { now: new Date(t0.getTime() + 3_599_000) })).resolves.toMatchObject({ userId: user.id });
    await expect(authenticateBearer(t.db, tokens.access_token, { now: new Date(t0.getTime() + 3_700_000) })).rejects.toMatchObject({ code: "invalid_token" });
  });
});

describe("what the token endpoints read in one statement", () => {
  it("takes the environment's settings from the same statement that locks the user or the token", async () => {
    const { actor, user } = await setup("production");
    const staffAdmin = { type: "staff", id: "s-admin", name: "admin", role: "admin" } as const;
    // A key's mint takes the lifetime this process last read for the environment (600 s here) as
    // its guess and its statement checks it against the settings row: a changed setting is read anew.
    const lifetimeOfMint = async () => {
      const at = new Date();
      return ((await issueSignInToken(t.db, actor, user.id, { now: at }, meta)).expiresAt.getTime() - at.getTime()) / 1000;
    };
    expect(await lifetimeOfMint()).toBe(600);
    await updateSettings(
      t.db,
      staffAdmin,
      "production",
      { signInTokenTtlSeconds: 120, accessTokenTtlSeconds: 900, refreshAbsoluteTtlSeconds: 7200, refreshGraceSeconds: 0 },
      meta,
    );
    try {
      const t0 = new Date();
      const minted = await issueSignInToken(t.db, actor, user.id, { now: t0 }, meta);
      expect(minted.expiresAt.getTime() - t0.getTime()).toBe(120_000);
      expect(await lifetimeOfMint()).toBe(120);
      const first = await exchangeSignInToken(t.db, { signInToken: minted.signInToken }, meta, { now: t0 });
      expect(first.expires_in).toBe(900);
      const [session] = await t.db.select().from(sdkSessions).where(eq(sdkSessions.userId, user.id));
      expect(session!.expiresAt.getTime() - t0.getTime()).toBe(7_200_000);
      const t1 = new Date(t0.getTime() + 1000);
      const second = await refreshSdkSession(t.db, first.refresh_token, meta, { now: t1 });
      expect(second.expires_in).toBe(900);
      // Grace 0: the used token is dead at once, and presenting it ends the family.
      expect((await grantError(refreshSdkSession(t.db, first.refresh_token, meta, { now: new Date(t1.getTime() + 1) }))).description).toMatch(
        /^refresh_token_reused/,
      );
    } finally {
      await updateSettings(
        t.db,
        staffAdmin,
        "production",
        { signInTokenTtlSeconds: 600, accessTokenTtlSeconds: 3600, refreshAbsoluteTtlSeconds: 365 * 24 * 3600, refreshGraceSeconds: 10 },
        meta,
      );
    }
    expect(await lifetimeOfMint()).toBe(600);
  });

  it("keeps answering when a migration adds columns while the server runs (the prepared statements name their columns)", async () => {
    // On PostgreSQL the token endpoints' statements are prepared on every pooled connection; one
    // that selected `*` would fail with "cached plan must not change result type" after this.
    const { key, actor, user } = await setup();
    const roundTrip = async () => {
      const minted = await issueSignInToken(t.db, actor, user.id, {}, meta);
      const first = await exchangeSignInToken(t.db, { signInToken: minted.signInToken }, meta);
      const second = await refreshSdkSession(t.db, first.refresh_token, meta);
      expect((await authenticateBearer(t.db, second.access_token)).userId).toBe(user.id);
      expect((await authenticateApiKey(t.db, key, "users:read")).id).toBeTruthy();
    };
    const tables = ["users", "api_keys", "sign_in_tokens", "sdk_sessions", "refresh_tokens", "audit_events"];
    // Enough rounds, some concurrent, to have prepared the statements on every connection of the pool.
    for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 6 }, roundTrip));
    for (const table of tables) await t.db.execute(sql.raw(`alter table ${table} add column added_by_a_later_release text`));
    try {
      for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 6 }, roundTrip));
    } finally {
      for (const table of tables) await t.db.execute(sql.raw(`alter table ${table} drop column added_by_a_later_release`));
    }
  });

  it("stamps an API key's last use once, not on every call", async () => {
    const { key } = await setup();
    const [k] = await t.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, hashSecret(key)));
    await t.db.update(apiKeys).set({ lastUsedAt: null }).where(eq(apiKeys.id, k!.id));
    // setup() already authenticated once and stamped; the map now skips the write for a minute.
    for (let i = 0; i < 5; i++) await authenticateApiKey(t.db, key, null);
    await new Promise((r) => setTimeout(r, 50));
    const [after] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, k!.id));
    expect(after!.lastUsedAt).toBeNull();
  });
});

describe("the verified-token cache", () => {
  it("still refuses a cached access token once it has expired or its key is no longer trusted", async () => {
    const { actor, user } = await setup();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, {}, meta);
    const tokens = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta);
    // Twice by the real clock: the second call is answered from the cache.
    await expect(authenticateBearer(t.db, tokens.access_token)).resolves.toMatchObject({ userId: user.id });
    await expect(authenticateBearer(t.db, tokens.access_token)).resolves.toMatchObject({ userId: user.id });
    await expect(authenticateBearer(t.db, tokens.access_token, { now: new Date(Date.now() + 2 * 3_600_000) })).rejects.toMatchObject({ code: "invalid_token" });
    // Its key removed (as after a rotation once the old key's tokens can no longer be live).
    const kid = JSON.parse(Buffer.from(tokens.access_token.split(".")[0]!, "base64url").toString()).kid as string;
    const [keyRow] = await t.db.select().from(signingKeys).where(eq(signingKeys.kid, kid));
    await t.db.delete(signingKeys).where(eq(signingKeys.kid, kid));
    clearSigningKeyCache();
    try {
      await expect(authenticateBearer(t.db, tokens.access_token)).rejects.toMatchObject({ code: "invalid_token" });
    } finally {
      await t.db.insert(signingKeys).values(keyRow!);
      clearSigningKeyCache();
    }
  });
});

describe("the signing keys behind a kid", () => {
  it("re-reads the keys for an unknown kid at most once per few seconds: forged kids cost no read each", async () => {
    const { actor, user } = await setup();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, {}, meta);
    const tokens = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta);
    const [h, p, sig] = tokens.access_token.split(".");
    const header = JSON.parse(Buffer.from(h!, "base64url").toString()) as Record<string, unknown>;
    const withKid = (kid: string) => `${Buffer.from(JSON.stringify({ ...header, kid })).toString("base64url")}.${p}.${sig}`;
    clearSigningKeyCache();
    await authenticateBearer(t.db, tokens.access_token); // the keys are loaded and fresh
    let reads = 0;
    const counting = new Proxy(t.db, {
      get(target, prop) {
        if (prop === "select" || prop === "execute") reads++;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    for (let i = 0; i < 100; i++) {
      await expect(verifyJwt(counting, withKid(`forged-${i}`), { audience: "tokendesk" })).rejects.toMatchObject({ reason: "unknown_key" });
    }
    expect(reads).toBeLessThanOrEqual(1);
  });
});

describe("failure limits of the token service", () => {
  const from = (address: string): RequestMeta => ({ ...meta, ip: address });

  it("failed API-key authentications from one address: 401 until the limit, then 429 with a retry time; good keys pass", async () => {
    const { key } = await setup();
    const address = "198.51.100.41";
    for (let i = 0; i < API_KEY_FAILURE_LIMIT.max; i++) {
      await expect(authenticateApiKey(t.db, `sk_us_bogus${i}`, null, from(address))).rejects.toMatchObject({ code: "invalid_api_key", status: 401 });
    }
    const limited = await authenticateApiKey(t.db, "sk_us_bogus", null, from(address)).catch((e: DomainError) => e);
    expect(limited).toMatchObject({ code: "rate_limited", status: 429 });
    expect((limited as DomainError).extra.retryAfterSeconds).toBeGreaterThan(0);
    expect((limited as DomainError).extra.retryAfterSeconds).toBeLessThanOrEqual(API_KEY_FAILURE_LIMIT.windowSeconds);
    // A good key from the same address is not throttled; another address's failures are its own.
    await expect(authenticateApiKey(t.db, key, null, from(address))).resolves.toBeTruthy();
    await expect(authenticateApiKey(t.db, "sk_us_bogus", null, from("198.51.100.42"))).rejects.toMatchObject({ code: "invalid_api_key" });
    // Successes write no bucket at all.
    const [buckets] = await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from rate_limits where key like 'api-key:ip:%'`);
    expect(Number(buckets!.n)).toBe(2);
  });

  it("failed token grants: per address, then per client; successful refreshes never counted", async () => {
    const { actor, user } = await setup();
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, {}, meta);
    let tokens = await exchangeSignInToken(t.db, { signInToken: sign_in_token, installationId: "busy-install" }, meta);
    // A busy SDK: many refreshes in a row, all fine, no bucket.
    for (let i = 0; i < 40; i++) {
      tokens = await limitGrantFailures(t.db, from("198.51.100.51"), "busy-install", () => refreshSdkSession(t.db, tokens.refresh_token, meta));
    }
    const grantBuckets = async () =>
      Number((await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from rate_limits where key like 'oauth-token:%'`))[0]!.n);
    expect(await grantBuckets()).toBe(0);

    const bad = (address: string, client: string | null) =>
      limitGrantFailures(t.db, from(address), client, () => refreshSdkSession(t.db, "rt_not-a-real-token", meta)).catch((e: OAuthError) => e);
    for (let i = 0; i < GRANT_FAILURE_LIMIT_PER_ADDRESS.max; i++) expect(await bad("198.51.100.52", null)).toMatchObject({ error: "invalid_grant" });
    const limited = (await bad("198.51.100.52", null)) as OAuthError;
    expect(limited).toMatchObject({ error: "rate_limited", status: 429 });
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.description).toMatch(/^Too many failed token requests from this address; try again in \d+ seconds?\.$/);
    // A good refresh from that address still goes through.
    tokens = await limitGrantFailures(t.db, from("198.51.100.52"), null, () => refreshSdkSession(t.db, tokens.refresh_token, meta));
    // One client failing from many addresses is limited per client.
    for (let i = 0; i < GRANT_FAILURE_LIMIT_PER_CLIENT.max; i++) {
      expect(await bad(`198.51.100.${60 + i}`, "looping-install")).toMatchObject({ error: "invalid_grant" });
    }
    expect(await bad("198.51.100.99", "looping-install")).toMatchObject({ error: "rate_limited", description: expect.stringContaining("from this client") });
  });
});

describe("revocation and introspection", () => {
  it("introspects live tokens for keys of the same environment and region only, and nothing after revocation", async () => {
    const { actor, user } = await setup("production", "eu");
    const { actor: otherRegion } = await setup("production", "us");
    const { signInToken: sign_in_token } = await issueSignInToken(t.db, actor, user.id, {}, meta);
    const tokens = await exchangeSignInToken(t.db, { signInToken: sign_in_token }, meta);
    const live = await introspectToken(t.db, actor, tokens.access_token);
    expect(live).toMatchObject({ active: true, sub: user.id, environment: "production", region: "eu", token_type: "access_token" });
    expect(await introspectToken(t.db, actor, tokens.refresh_token)).toMatchObject({ active: true, token_type: "refresh_token" });
    expect(await introspectToken(t.db, otherRegion, tokens.access_token)).toEqual({ active: false });
    expect(await introspectToken(t.db, actor, "garbage")).toEqual({ active: false });

    expect(await revokeToken(t.db, tokens.access_token, meta)).toEqual({ revoked: "access_token" });
    expect(await introspectToken(t.db, actor, tokens.access_token)).toEqual({ active: false });
    expect(await introspectToken(t.db, actor, tokens.refresh_token)).toMatchObject({ active: true }); // only the JWT was revoked
    expect(await revokeToken(t.db, tokens.refresh_token, meta)).toEqual({ revoked: "refresh_token" });
    expect(await introspectToken(t.db, actor, tokens.refresh_token)).toEqual({ active: false });
    expect(await revokeToken(t.db, "nonsense", meta)).toEqual({ revoked: null });
    const [session] = await t.db.select().from(sdkSessions).where(eq(sdkSessions.userId, user.id));
    expect(session!.revokeReason).toBe("revoked_by_client");
  });
});

describe("API-key installations and migration", () => {
  it("records an installation once a minute at most", async () => {
    const { actor, user } = await setup();
    const t0 = new Date("2031-05-01T10:00:00Z");
    expect(await recordApiKeyInstallation(t.db, { apiKeyId: actor.id, userId: user.id, installationId: "i-1" }, t0)).toBe(true);
    expect(await recordApiKeyInstallation(t.db, { apiKeyId: actor.id, userId: user.id, installationId: "i-1" }, new Date(t0.getTime() + 30_000))).toBe(false);
    expect(await recordApiKeyInstallation(t.db, { apiKeyId: actor.id, userId: user.id, installationId: "i-1" }, new Date(t0.getTime() + 61_000))).toBe(true);
    expect(await recordApiKeyInstallation(t.db, { apiKeyId: actor.id, userId: user.id, installationId: "" }, t0)).toBe(false);
    const [row] = await t.db.select().from(apiKeyInstallations).where(eq(apiKeyInstallations.apiKeyId, actor.id));
    expect(row).toMatchObject({ firstSeenAt: t0, lastSeenAt: new Date(t0.getTime() + 61_000) });
  });

  it("refuses an incompatible migration without consuming the token and completes a compatible one", async () => {
    const { key, actor, user } = await setup("sandbox", "eu");
    const { key: prodKey } = await setup("production", "eu");
    await recordApiKeyInstallation(t.db, { apiKeyId: actor.id, userId: user.id, installationId: "legacy" });
    const { signInToken: sign_in_token, tokenId: token_id } = await issueSignInToken(t.db, actor, user.id, {}, meta);

    const refused = await grantError(
      exchangeSignInToken(t.db, { signInToken: sign_in_token, installationId: "legacy", migration: { apiKey: prodKey, previousUserId: user.id } }, meta),
    );
    expect(refused.description).toMatch(/^incompatible_migration: /);
    const [unused] = await t.db.select().from(signInTokens).where(eq(signInTokens.id, token_id));
    expect(unused!.usedAt).toBeNull();
    const [rejected] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "migration.rejected"));
    expect(rejected).toMatchObject({ reason: "environment_mismatch", outcome: "denied", targetId: user.id });
    expect(dump(rejected)).not.toContain(prodKey);
    expect(dump(rejected)).not.toContain(sign_in_token);

    await exchangeSignInToken(t.db, { signInToken: sign_in_token, installationId: "legacy", migration: { apiKey: key, previousUserId: user.id } }, meta);
    const [inst] = await t.db.select().from(apiKeyInstallations).where(eq(apiKeyInstallations.apiKeyId, actor.id));
    expect(inst!.migratedAt).not.toBeNull();
    const [session] = await t.db.select().from(sdkSessions).where(eq(sdkSessions.id, inst!.migratedSessionId!));
    expect(session!.migratedFromKeyId).toBe(actor.id);
    const [done] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "migration.completed"));
    expect(done!.details).toMatchObject({ apiKeyId: actor.id, installationId: "legacy", userId: user.id });
    expect(dump(done)).not.toContain(key);
    const [hashOnly] = await t.db.select({ h: signInTokens.tokenHash }).from(signInTokens).where(eq(signInTokens.id, token_id));
    expect(hashOnly!.h).toBe(hashSecret(sign_in_token));
  });
});
