/**
 * Issue 14, point 5: a user's pending sign-in tokens can be listed (issued by whom, when, until
 * when; never the secret) and revoked before use — by staff with a reason, or by a Team API key of
 * the user's environment — audited as `sign_in_token.revoked`. A revoked token's exchange fails;
 * redemption and revocation racing for one token end with exactly one winner.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, signInTokens } from "@/db/schema";
import { apiKeyActor, authenticateApiKey, createApiKey } from "@/lib/api-keys";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { getSignInTokenStatus, issueSignInToken, listPendingSignInTokens, revokeSignInToken } from "@/lib/sign-in-tokens";
import { createStaff } from "@/lib/staff/staff";
import { createUser, type UserView } from "@/lib/users";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const system = systemActor("revoke test");
let t: TestDatabase;
let support: Actor;
let qa: Actor;
let auditor: Actor;
let prodKey: Actor;
let sandboxKey: Actor;
let prod: UserView;
let sandbox: UserView;

const revokedEvents = async (tokenId: string) =>
  (await t.db.select().from(auditEvents).where(eq(auditEvents.action, "sign_in_token.revoked"))).filter((e) => e.details.signInTokenId === tokenId);

beforeAll(async () => {
  t = await createTestDatabase();
  const staffActor = async (role: "support" | "qa" | "auditor", name: string): Promise<Actor> => {
    const s = await createStaff(t.db, system, { email: `${role}-revoke@example.test`, name, role, password: "a long enough password" }, NO_REQUEST);
    return { type: "staff", id: s.id, name: s.email, role };
  };
  support = await staffActor("support", "Sam Support");
  qa = await staffActor("qa", "Quinn QA");
  auditor = await staffActor("auditor", "Avery Auditor");
  const admin: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000a0001", name: "admin@example.test", role: "admin" };
  const key = async (environment: "sandbox" | "production") => {
    const { key } = await createApiKey(
      t.db,
      admin,
      { name: `${environment} backend`, environment, region: "eu", scopes: ["users:read", "sign_in_tokens:write"] },
      NO_REQUEST,
    );
    return apiKeyActor(await authenticateApiKey(t.db, key, null));
  };
  prodKey = await key("production");
  sandboxKey = await key("sandbox");
  prod = await createUser(t.db, system, { client_user_id: "revoke-prod", environment: "production", region: "eu" }, NO_REQUEST);
  sandbox = await createUser(t.db, system, { client_user_id: "revoke-sbx", environment: "sandbox", region: "eu" }, NO_REQUEST);
});
afterAll(async () => {
  await t?.close();
});

describe("listing a user's pending sign-in tokens", () => {
  it("lists unused, unrevoked, unexpired tokens newest first, naming who issued them, never the secret", async () => {
    const now = new Date(Date.now() + 1000);
    const byStaff = await issueSignInToken(t.db, support, prod.id, { reason: "Ticket 81", expiresInSeconds: 3600 }, NO_REQUEST);
    const byKey = await issueSignInToken(t.db, prodKey, prod.id, { expiresInSeconds: 86_400 }, NO_REQUEST);
    const short = await issueSignInToken(t.db, prodKey, prod.id, { expiresInSeconds: 60, now: new Date(Date.now() - 120_000) }, NO_REQUEST);
    const used = await issueSignInToken(t.db, prodKey, prod.id, {}, NO_REQUEST);
    await exchangeSignInToken(t.db, { signInToken: used.signInToken }, NO_REQUEST);

    const seen = await listPendingSignInTokens(t.db, support, prod.id, now);
    expect(seen.map((p) => p.id)).toEqual([byKey.tokenId, byStaff.tokenId]);
    expect(seen[1]).toMatchObject({
      issuedBy: { type: "staff", id: support.id, name: "Sam Support", detail: "support-revoke@example.test" },
      reason: "Ticket 81",
    });
    expect(seen[0]!.issuedBy).toMatchObject({ type: "api_key", name: "production backend" });
    expect(seen[0]!.expiresAt.getTime() - seen[0]!.createdAt.getTime()).toBe(86_400_000);
    expect(JSON.stringify(seen)).not.toContain(byStaff.signInToken);
    expect(seen.map((p) => p.id)).not.toContain(short.tokenId);

    // The key sees the same list without staff's reasons; auditors may read; qa and other keys may not.
    expect((await listPendingSignInTokens(t.db, prodKey, prod.id, now)).map((p) => [p.id, p.reason])).toEqual([
      [byKey.tokenId, null],
      [byStaff.tokenId, null],
    ]);
    expect(await listPendingSignInTokens(t.db, auditor, prod.id, now)).toHaveLength(2);
    await expect(listPendingSignInTokens(t.db, qa, prod.id, now)).rejects.toMatchObject({ status: 403 });
    await expect(listPendingSignInTokens(t.db, sandboxKey, prod.id, now)).rejects.toMatchObject({ status: 404, code: "user_not_found" });
  });
});

describe("revoking a sign-in token", () => {
  it("takes the token back with a reason, audits it once, and its exchange then fails", async () => {
    const issued = await issueSignInToken(t.db, support, sandbox.id, { reason: "to be lost" }, NO_REQUEST);
    await expect(revokeSignInToken(t.db, support, sandbox.id, issued.tokenId, { reason: " " }, NO_REQUEST)).rejects.toMatchObject({
      status: 422,
      code: "reason_required",
    });
    await expect(revokeSignInToken(t.db, auditor, sandbox.id, issued.tokenId, { reason: "no" }, NO_REQUEST)).rejects.toMatchObject({ status: 403 });
    expect(await revokedEvents(issued.tokenId)).toHaveLength(0);

    expect(await revokeSignInToken(t.db, qa, sandbox.id, issued.tokenId, { reason: "Phone lost, ticket 90" }, NO_REQUEST)).toEqual({ revoked: true });
    const [event] = await revokedEvents(issued.tokenId);
    expect(event).toMatchObject({
      actorType: "staff",
      actorId: qa.id,
      targetType: "user",
      targetId: sandbox.id,
      reason: "Phone lost, ticket 90",
      environment: "sandbox",
    });
    const [row] = await t.db.select().from(signInTokens).where(eq(signInTokens.id, issued.tokenId));
    expect(row).toMatchObject({ revokedByType: "staff", revokedById: qa.id, usedAt: null });
    expect((await getSignInTokenStatus(t.db, support, issued.tokenId)).state).toBe("revoked");
    expect((await listPendingSignInTokens(t.db, support, sandbox.id)).map((p) => p.id)).not.toContain(issued.tokenId);

    await expect(exchangeSignInToken(t.db, { signInToken: issued.signInToken }, NO_REQUEST)).rejects.toMatchObject({ error: "invalid_grant" });

    // Again: nothing more to do, no second event.
    expect(await revokeSignInToken(t.db, sandboxKey, sandbox.id, issued.tokenId, {}, NO_REQUEST)).toEqual({ revoked: false });
    expect(await revokedEvents(issued.tokenId)).toHaveLength(1);
  });

  it("lets a key of the user's environment revoke without a reason; other keys and other users' ids find nothing", async () => {
    const issued = await issueSignInToken(t.db, prodKey, prod.id, {}, NO_REQUEST);
    await expect(revokeSignInToken(t.db, sandboxKey, prod.id, issued.tokenId, {}, NO_REQUEST)).rejects.toMatchObject({ status: 404, code: "user_not_found" });
    await expect(revokeSignInToken(t.db, prodKey, sandbox.id, issued.tokenId, {}, NO_REQUEST)).rejects.toMatchObject({ status: 404 });
    await expect(revokeSignInToken(t.db, support, sandbox.id, issued.tokenId, { reason: "wrong user" }, NO_REQUEST)).rejects.toMatchObject({
      status: 404,
      code: "sign_in_token_not_found",
    });
    await expect(revokeSignInToken(t.db, prodKey, prod.id, "not-a-uuid", {}, NO_REQUEST)).rejects.toMatchObject({
      status: 404,
      code: "sign_in_token_not_found",
    });
    expect(await revokeSignInToken(t.db, prodKey, prod.id, issued.tokenId, {}, NO_REQUEST)).toEqual({ revoked: true });
    const [event] = await revokedEvents(issued.tokenId);
    expect(event).toMatchObject({ actorType: "api_key", actorId: prodKey.id, reason: null });
  });

  it("refuses a token already used (revoke its session instead), changing nothing", async () => {
    const issued = await issueSignInToken(t.db, prodKey, prod.id, {}, NO_REQUEST);
    await exchangeSignInToken(t.db, { signInToken: issued.signInToken }, NO_REQUEST);
    await expect(revokeSignInToken(t.db, support, prod.id, issued.tokenId, { reason: "too late" }, NO_REQUEST)).rejects.toMatchObject({
      status: 409,
      code: "conflict",
    });
    const [row] = await t.db.select().from(signInTokens).where(eq(signInTokens.id, issued.tokenId));
    expect(row!.revokedAt).toBeNull();
    expect(await revokedEvents(issued.tokenId)).toHaveLength(0);
  });

  it("racing redemption and revocation of one token: exactly one wins", async () => {
    const rounds = 8;
    for (let i = 0; i < rounds; i++) {
      const issued = await issueSignInToken(t.db, prodKey, prod.id, {}, NO_REQUEST);
      const results = await Promise.allSettled([
        exchangeSignInToken(t.db, { signInToken: issued.signInToken }, NO_REQUEST),
        revokeSignInToken(t.db, prodKey, prod.id, issued.tokenId, {}, NO_REQUEST),
        exchangeSignInToken(t.db, { signInToken: issued.signInToken }, NO_REQUEST),
        revokeSignInToken(t.db, support, prod.id, issued.tokenId, { reason: "race" }, NO_REQUEST),
      ]);
      const exchanged = [results[0], results[2]].filter((r) => r.status === "fulfilled").length;
      const revoked = [results[1], results[3]].filter((r) => r.status === "fulfilled" && (r.value as { revoked: boolean }).revoked).length;
      expect(exchanged + revoked, `round ${i}`).toBe(1);
      const [row] = await t.db.select().from(signInTokens).where(eq(signInTokens.id, issued.tokenId));
      expect(Boolean(row!.usedAt) !== Boolean(row!.revokedAt), `round ${i}: used xor revoked`).toBe(true);
      expect(await revokedEvents(issued.tokenId)).toHaveLength(revoked);
    }
  });
});
