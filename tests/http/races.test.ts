/**
 * The races that matter, on real PostgreSQL through the real server: hundreds of concurrent
 * exchanges of one sign-in token redeem it once; parallel refreshes with one refresh token stay in
 * one family inside the grace window, and the same token after the window kills the whole family.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, queryRows } from "@/db/client";
import { auditEvents, refreshTokens, sdkSessions } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { getSettings, updateSettings } from "@/lib/settings";
import { baseUrl, createUserOver, exchangeOver, issueOver, mintKey, openTestDb, refreshOver } from "../helpers/machine-api";

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDb();
});
afterAll(async () => {
  await handle.close();
});

describe("concurrency on PostgreSQL", () => {
  it("200 concurrent exchanges of one sign-in token: one 200, 199 invalid_grant, one session, one redeemed event", async () => {
    const { key } = await mintKey(handle);
    const user = await createUserOver(key);
    const token = await issueOver(key, user.user_id);

    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => exchangeOver(token, { installation_id: `racer-${i}` })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.body.error === "invalid_grant")).toHaveLength(199);

    const sessions = await handle.db.select().from(sdkSessions).where(eq(sdkSessions.userId, user.user_id));
    expect(sessions).toHaveLength(1);
    const redeemed = await handle.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "sign_in_token.redeemed"), eq(auditEvents.targetId, user.user_id)));
    expect(redeemed).toHaveLength(1);
    expect(redeemed[0]!.details.sessionId).toBe(sessions[0]!.id);
  });

  it("50 parallel refreshes with one token succeed inside the grace window in one family; after it the family dies", async () => {
    // Production's grace window is widened for this test so a slow CI machine cannot push the
    // 50 retries past it; restored afterwards (other files share the server).
    const system = systemActor("http test");
    const before = await getSettings(handle.db, "production");
    await updateSettings(handle.db, system, "production", { ...before, refreshGraceSeconds: 300 }, NO_REQUEST);
    try {
      const { key } = await mintKey(handle, { environment: "production", region: "us" });
      const user = await createUserOver(key);
      const first = await exchangeOver(await issueOver(key, user.user_id), { installation_id: "parallel-refresher" });
      expect(first.status).toBe(200);
      const original: string = first.body.refresh_token;

      const results = await Promise.all(Array.from({ length: 50 }, () => refreshOver(original)));
      expect(results.filter((r) => r.status >= 500)).toEqual([]);
      const successes = results.filter((r) => r.status === 200);
      expect(successes).toHaveLength(50);

      const [used] = await handle.db
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, hashSecret(original)));
      expect(used!.rotatedAt).not.toBeNull();
      const issued = await handle.db
        .select()
        .from(refreshTokens)
        .where(
          inArray(
            refreshTokens.tokenHash,
            successes.map((r) => hashSecret(r.body.refresh_token)),
          ),
        );
      expect(issued).toHaveLength(50);
      expect(new Set(issued.map((r) => r.sessionId))).toEqual(new Set([used!.sessionId]));
      for (const r of issued) expect(r.createdAt.getTime()).toBeLessThanOrEqual(used!.graceUntil!.getTime());

      // The window closes (as if its seconds had passed): presenting the used token again is reuse.
      await handle.db.execute(sql`update refresh_tokens set grace_until = now() - interval '1 second' where id = ${used!.id}`);
      const reuse = await refreshOver(original);
      expect(reuse.status).toBe(400);
      expect(reuse.body.error).toBe("invalid_grant");
      expect(reuse.headers.get("cache-control")).toBe("no-store");

      // The whole family is dead, the newest tokens included, and the JWTs too.
      const after = await Promise.all(successes.slice(0, 10).map((r) => refreshOver(r.body.refresh_token)));
      for (const r of after) expect(r.body.error).toBe("invalid_grant");
      const me = await fetch(`${baseUrl()}/v2/user/${user.user_id}`, { headers: { Authorization: `Bearer ${successes[49]!.body.access_token}` } });
      expect(me.status).toBe(401);
      const [session] = await handle.db.select().from(sdkSessions).where(eq(sdkSessions.id, used!.sessionId));
      expect(session!.revokeReason).toBe("refresh_token_reuse");
      const [reuseEvents] = await queryRows<{ n: number }>(
        handle.db,
        sql`select count(*)::int as n from audit_events where action = 'refresh_token.reuse_detected' and target_id = ${used!.sessionId}`,
      );
      expect(Number(reuseEvents!.n)).toBe(1);
    } finally {
      await updateSettings(handle.db, system, "production", before, NO_REQUEST);
    }
  });
});
