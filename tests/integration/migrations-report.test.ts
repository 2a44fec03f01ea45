import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "@/db/schema";
import { exportMigrationEvents, listMigrationEvents } from "@/lib/api-key-migration/events";
import { installationsStillUsingKey, installationsStillUsingKeys, migrationReport } from "@/lib/api-key-migration/report";
import { apiKeyActor, createApiKey, getApiKey, revokeApiKey } from "@/lib/api-keys";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { recordApiKeyInstallation } from "@/lib/oauth/migration";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { createUser } from "@/lib/users";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
const admin = systemActor("test");
const auditor: Actor = { type: "staff", id: "00000000-0000-7000-8000-000000000001", name: "auditor@test", role: "auditor" };
const qa: Actor = { type: "staff", id: "00000000-0000-7000-8000-000000000002", name: "qa@test", role: "qa" };

async function keyAndActor(environment: "sandbox" | "production", region: "us" | "eu") {
  const { key, apiKey } = await createApiKey(
    t.db,
    admin,
    { name: `${environment}-${region}`, environment, region, scopes: ["users:read", "users:write", "sign_in_tokens:write"] },
    NO_REQUEST,
  );
  return { key, id: apiKey.id, prefix: apiKey.prefix, actor: apiKeyActor((await getApiKey(t.db, apiKey.id))!) };
}

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.close());

describe("migration report", () => {
  it("counts installations seen, migrated, remaining and rejected per key, by day, and what revoking would break", async () => {
    const sandboxUs = await keyAndActor("sandbox", "us");
    const productionUs = await keyAndActor("production", "us");
    const users = [];
    for (let i = 0; i < 4; i++) users.push(await createUser(t.db, sandboxUs.actor, { client_user_id: `mig-${i}` }, NO_REQUEST));
    // Four installations use the sandbox key in API-key mode.
    for (const [i, u] of users.entries()) await recordApiKeyInstallation(t.db, { apiKeyId: sandboxUs.id, userId: u.id, installationId: `inst-${i}` });

    const token = async (userId: string) => (await issueSignInToken(t.db, sandboxUs.actor, userId, {}, NO_REQUEST)).signInToken;
    // Two migrate properly.
    for (const i of [0, 1]) {
      await exchangeSignInToken(
        t.db,
        { signInToken: await token(users[i]!.id), installationId: `inst-${i}`, migration: { apiKey: sandboxUs.key, previousUserId: users[i]!.id } },
        NO_REQUEST,
      );
    }
    // One is rejected for the wrong user, one for the wrong environment's key.
    const rejects = [
      { apiKey: sandboxUs.key, previousUserId: users[3]!.id, userIdx: 2 },
      { apiKey: productionUs.key, previousUserId: users[3]!.id, userIdx: 3 },
    ];
    for (const r of rejects) {
      const err = await exchangeSignInToken(
        t.db,
        {
          signInToken: await token(users[r.userIdx]!.id),
          installationId: `inst-${r.userIdx}`,
          migration: { apiKey: r.apiKey, previousUserId: r.previousUserId },
        },
        NO_REQUEST,
      ).catch((e: unknown) => e);
      expect(String((err as { description?: string; message?: string }).message ?? err)).toMatch(/incompatible_migration/);
    }

    const report = await migrationReport(t.db, auditor, {});
    const sandbox = report.keys.find((k) => k.apiKeyId === sandboxUs.id)!;
    expect(sandbox).toMatchObject({
      seen: 4,
      migrated: 2,
      remaining: 2,
      rejected: 1,
      completedEvents: 2,
      rejectedByReason: { user_mismatch: 1 },
      safety: "in_use",
      recentlyActiveRemaining: 2,
    });
    expect(sandbox.remainingLastSeenAt).toBeInstanceOf(Date);
    const production = report.keys.find((k) => k.apiKeyId === productionUs.id)!;
    expect(production).toMatchObject({
      seen: 0,
      migrated: 0,
      completedEvents: 0,
      rejected: 1,
      rejectedByReason: { environment_mismatch: 1 },
      safety: "safe",
      lastUsedAt: null,
      remainingLastSeenAt: null,
    });
    // Installations are counted once each, events as they happened: the totals' events are the chart's.
    expect(report.totals).toEqual({ seen: 4, migrated: 2, remaining: 2, completedEvents: 2, rejected: 2 });
    const today = new Date().toISOString().slice(0, 10);
    expect(report.daily).toEqual([{ day: today, completed: 2, rejected: 2 }]);
    expect(await installationsStillUsingKey(t.db, sandboxUs.id)).toBe(2);
    // The API keys page asks for every live key at once.
    expect(await installationsStillUsingKeys(t.db, [sandboxUs.id, productionUs.id])).toEqual(
      new Map([
        [sandboxUs.id, 2],
        [productionUs.id, 0],
      ]),
    );
    expect(await installationsStillUsingKeys(t.db, [])).toEqual(new Map());

    // One key selected: its row only, and the chart counts only its events.
    const one = await migrationReport(t.db, auditor, { apiKeyId: productionUs.id });
    expect(one.keys.map((k) => k.apiKeyId)).toEqual([productionUs.id]);
    expect(one.daily).toEqual([{ day: today, completed: 0, rejected: 1 }]);
    expect(one.totals).toEqual({ seen: 0, migrated: 0, remaining: 0, completedEvents: 0, rejected: 1 });

    // The events behind the numbers, for the list and the export.
    const events = await listMigrationEvents(t.db, auditor, { from: report.from, to: report.to, apiKeyId: sandboxUs.id });
    expect(events.events.map((e) => e.action).sort()).toEqual(["migration.completed", "migration.completed", "migration.rejected"]);
    const csv = await new Response(await exportMigrationEvents(t.db, auditor, { from: report.from, to: report.to }, "csv", NO_REQUEST)).text();
    expect(csv.trim().split("\n")).toHaveLength(1 + 4);
    expect(csv).not.toContain(sandboxUs.key);

    // Revoking the key those two installations still use needs the number confirmed, and says so.
    const refused = await revokeApiKey(t.db, admin, sandboxUs.id, "rotating", NO_REQUEST).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "confirmation_required", status: 409, extra: { breakingInstallations: 2 } });
    expect((refused as Error).message).toMatch(/^2 app installations used this key/);
    await expect(revokeApiKey(t.db, admin, sandboxUs.id, "rotating", NO_REQUEST, { confirmBreakingInstallations: 1 })).rejects.toMatchObject({
      code: "confirmation_required",
    });
    expect((await getApiKey(t.db, sandboxUs.id))!.revokedAt).toBeNull();
    await revokeApiKey(t.db, admin, sandboxUs.id, "rotating", NO_REQUEST, { confirmBreakingInstallations: 2 });
    expect((await getApiKey(t.db, sandboxUs.id))!.revokedAt).not.toBeNull();
    const [event] = (await t.db.query.auditEvents.findMany({ where: (e, { eq }) => eq(e.action, "api_key.revoked") })).filter(
      (e) => e.targetId === sandboxUs.id,
    );
    expect(event!.details).toMatchObject({ breakingInstallations: 2, confirmedBreakingInstallations: true });
    expect(event!.reason).toBe("rotating");
    // A key nobody depends on is revoked without ceremony.
    await revokeApiKey(t.db, admin, productionUs.id, "unused", NO_REQUEST);
    expect((await getApiKey(t.db, productionUs.id))!.revokedAt).not.toBeNull();

    // qa sees sandbox only: the production key is not in its report.
    const qaReport = await migrationReport(t.db, qa, {});
    expect(qaReport.keys.some((k) => k.apiKeyId === productionUs.id)).toBe(false);
  });

  it("a key no app uses is not safe to revoke while a backend calls with it; it is once the calls stop", async () => {
    const backendKey = await keyAndActor("sandbox", "eu");
    const safety = async () => (await migrationReport(t.db, auditor, { apiKeyId: backendKey.id })).keys[0]!;
    expect(await safety()).toMatchObject({ seen: 0, safety: "safe", lastUsedAt: null });

    // A backend called with it five minutes ago (no installation id: not an app).
    const fiveMinutesAgo = new Date(Date.now() - 5 * 60_000);
    await t.db.update(apiKeys).set({ lastUsedAt: fiveMinutesAgo }).where(eq(apiKeys.id, backendKey.id));
    expect(await safety()).toMatchObject({ seen: 0, recentlyActiveRemaining: 0, safety: "recently_used", lastUsedAt: fiveMinutesAgo });

    // The last call was before the window: safe again, and the report still says when it was.
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    await t.db.update(apiKeys).set({ lastUsedAt: longAgo }).where(eq(apiKeys.id, backendKey.id));
    expect(await safety()).toMatchObject({ safety: "safe", lastUsedAt: longAgo });

    // An app still on the key outranks the backend: what breaks first is named.
    const user = await createUser(t.db, backendKey.actor, { client_user_id: "backend-key-app" }, NO_REQUEST);
    await recordApiKeyInstallation(t.db, { apiKeyId: backendKey.id, userId: user.id, installationId: "backend-key-inst" });
    await t.db.update(apiKeys).set({ lastUsedAt: fiveMinutesAgo }).where(eq(apiKeys.id, backendKey.id));
    expect(await safety()).toMatchObject({ seen: 1, remaining: 1, safety: "in_use", recentlyActiveRemaining: 1 });
  });

  it("refuses roles without the permission and periods that make no sense", async () => {
    const nobody: Actor = { type: "anonymous", id: null, name: null };
    await expect(migrationReport(t.db, nobody, {})).rejects.toBeInstanceOf(DomainError);
    await expect(migrationReport(t.db, auditor, { from: new Date("2026-02-01"), to: new Date("2026-01-01") })).rejects.toThrow(/start before it ends/);
  });
});
