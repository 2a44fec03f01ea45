/**
 * The overview's figures (lib/overview): the activity rollup counts each day per environment from
 * the audit log and the token tables, keeps settled days, recounts today; the series sums what the
 * role may see; "issued by me" and "handoffs in progress" show the actor's own and open ones only.
 */
import { sql } from "drizzle-orm";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { idvSessions, refreshTokens, sdkSessions, signInTokens } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { handoffsInProgress, issuedByMe } from "@/lib/overview";
import { activitySeries, countDay, rollUpActivity, uuidv7Floor } from "@/lib/overview/activity";
import { createUser } from "@/lib/users";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const support: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000c2", name: "sam@example.test", role: "support" };
const qa: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000c3", name: "quinn@example.test", role: "qa" };
const auditor: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000c4", name: "avery@example.test", role: "auditor" };
const system = systemActor("overview test");

let t: TestDatabase;
// Three days ending "now" at noon UTC: d0 two days ago, d1 yesterday, d2 today.
const now = new Date("2031-06-10T12:00:00Z");
const d0 = "2031-06-08";
const d1 = "2031-06-09";
const d2 = "2031-06-10";
const at = (day: string, hour: number) => new Date(`${day}T${String(hour).padStart(2, "0")}:00:00Z`);

async function event(
  action: Parameters<typeof recordAudit>[1]["action"],
  when: Date,
  environment: string | null,
  outcome: "success" | "failure" | "denied" = "success",
) {
  await t.db.transaction((tx) => recordAudit(tx, { actor: system, action, environment, outcome, occurredAt: when }, NO_REQUEST));
}

/** A session started at `when` and refreshed `refreshes` times later that hour (ids are UUIDv7 of those times). */
async function sessionWithRefreshes(userId: string, environment: "sandbox" | "production", when: Date, refreshes: number) {
  const sessionId = uuidv7({ msecs: when.getTime() });
  await t.db.insert(sdkSessions).values({ id: sessionId, userId, environment, region: "us", expiresAt: at("2032-01-01", 0), createdAt: when });
  for (let i = 0; i <= refreshes; i++) {
    const ms = when.getTime() + i * 60_000;
    await t.db.insert(refreshTokens).values({ id: uuidv7({ msecs: ms }), sessionId, tokenHash: `h-${sessionId}-${i}`, createdAt: new Date(ms) });
  }
}

let sandboxUser: string;
let productionUser: string;

beforeAll(async () => {
  t = await createTestDatabase();
  sandboxUser = (await createUser(t.db, system, { client_user_id: "ov-sandbox", environment: "sandbox", region: "us" }, NO_REQUEST)).id;
  productionUser = (await createUser(t.db, system, { client_user_id: "ov-production", environment: "production", region: "us" }, NO_REQUEST)).id;
  await queryRows(t.db, sql`delete from audit_events`); // the users' creation is not part of the figures below

  await event("sign_in_token.issued", at(d0, 9), "production");
  await event("sign_in_token.redeemed", at(d0, 9), "production");
  await event("sign_in_token.redeemed", at(d0, 23), "sandbox");
  await event("migration.rejected", at(d0, 10), "production", "denied");
  await event("staff.sign_in_failed", at(d0, 11), null, "failure");
  await event("sign_in_token.issued", at(d1, 0), "sandbox");
  await event("ephemeral_token.minted", at(d1, 8), "sandbox");
  await event("refresh_token.reuse_detected", at(d1, 8), "production", "denied");
  await event("sign_in_token.redeemed", at(d2, 8), "production");
  await sessionWithRefreshes(productionUser, "production", at(d0, 9), 3);
  await sessionWithRefreshes(sandboxUser, "sandbox", at(d0, 23), 1);
  await sessionWithRefreshes(productionUser, "production", at(d2, 8), 2);
});
afterAll(async () => {
  await t?.close();
});

describe("countDay", () => {
  it("counts each metric per environment: successes by action, failures by outcome, refreshes by token rows less sessions", async () => {
    const rows = await countDay(t.db, d0);
    const got = Object.fromEntries(rows.map((r) => [`${r.environment}/${r.metric}`, r.n]));
    expect(got).toEqual({
      "production/tokensIssued": 1,
      "production/signIns": 1,
      "sandbox/signIns": 1,
      "production/failures": 1,
      "/failures": 1,
      "production/refreshes": 3,
      "sandbox/refreshes": 1,
    });
  });

  it("bounds a day by UUIDv7 keys exactly at midnight", () => {
    expect(uuidv7Floor(Date.parse("2031-06-09T00:00:00Z"))).toBe(
      `${Date.parse("2031-06-09T00:00:00Z")
        .toString(16)
        .padStart(12, "0")
        .replace(/^(.{8})(.{4})$/, "$1-$2")}-0000-0000-000000000000`,
    );
    expect(uuidv7({ msecs: Date.parse("2031-06-09T00:00:00Z") }) >= uuidv7Floor(Date.parse("2031-06-09T00:00:00Z"))).toBe(true);
    expect(uuidv7({ msecs: Date.parse("2031-06-08T23:59:59.999Z") }) < uuidv7Floor(Date.parse("2031-06-09T00:00:00Z"))).toBe(true);
  });
});

describe("rollUpActivity and activitySeries", () => {
  it("counts the window, marks settled days final, and the series sums what each role may see", async () => {
    const counted = await rollUpActivity(t.db, now);
    expect(counted).toContain(d0);
    expect(counted).toContain(d2);
    const days = await queryRows<{ day: string; final: boolean }>(t.db, sql`select day, final from activity_days where day >= ${d0} order by day`);
    expect(days).toEqual([
      { day: d0, final: true },
      { day: d1, final: true },
      { day: d2, final: false },
    ]);

    const all = await activitySeries(t.db, auditor, 7, now);
    expect(all.days).toHaveLength(7);
    expect(all.days.at(-1)!.day).toBe(d2);
    const byDay = Object.fromEntries(all.days.map((d) => [d.day, d]));
    expect(byDay[d0]).toMatchObject({ signIns: 2, tokensIssued: 1, failures: 2, refreshes: 4, handoffs: 0, reuse: 0 });
    expect(byDay[d1]).toMatchObject({ signIns: 0, tokensIssued: 1, handoffs: 1, failures: 1, reuse: 0 });
    expect(byDay[d2]).toMatchObject({ signIns: 1, refreshes: 2 });
    expect(all.countedAt?.toISOString()).toBe(now.toISOString());

    // QA: sandbox only, and not the events of no environment.
    const sandbox = await activitySeries(t.db, qa, 7, now).catch((e: Error) => e);
    expect(sandbox).toBeInstanceOf(Error); // qa has no audit:read
    await expect(activitySeries(t.db, support, 7, now)).rejects.toMatchObject({ status: 403 });
    expect((await activitySeries(t.db, auditor, 30, now)).days).toHaveLength(30);
  });

  it("keeps final days and recounts today", async () => {
    await event("sign_in_token.redeemed", at(d0, 12), "production"); // late: d0 is final
    await event("sign_in_token.redeemed", at(d2, 11), "production");
    const counted = await rollUpActivity(t.db, new Date(now.getTime() + 60_000));
    expect(counted).not.toContain(d0);
    expect(counted).toContain(d2);
    const byDay = Object.fromEntries((await activitySeries(t.db, auditor, 7, now)).days.map((d) => [d.day, d]));
    expect(byDay[d0]!.signIns).toBe(2);
    expect(byDay[d2]!.signIns).toBe(2);
  });

  it("counts on one instance at a time", async () => {
    const runs = await Promise.all([rollUpActivity(t.db, now), rollUpActivity(t.db, now), rollUpActivity(t.db, now)]);
    expect(runs.filter((r) => r.length > 0).length).toBeGreaterThanOrEqual(1);
    // Whatever interleaving, every row is there once.
    const [dupes] = await queryRows<{ n: number | string }>(t.db, sql`select count(*) - count(distinct (day, environment, metric)) as n from activity_daily`);
    expect(Number(dupes!.n)).toBe(0);
  });
});

describe("issued by me and handoffs in progress", () => {
  it("lists the actor's own tokens and handoffs with their state, newest first", async () => {
    const mine = async (state: "pending" | "redeemed" | "expired" | "revoked", minutesAgo: number) => {
      const id = uuidv7();
      const created = new Date(now.getTime() - minutesAgo * 60_000);
      await t.db.insert(signInTokens).values({
        id,
        userId: sandboxUser,
        environment: "sandbox",
        region: "us",
        tokenHash: `tok-${id}`,
        issuedByType: "staff",
        issuedById: support.id,
        createdAt: created,
        expiresAt: new Date(created.getTime() + (state === "expired" ? 60_000 : 86_400_000)),
        usedAt: state === "redeemed" ? now : null,
        revokedAt: state === "revoked" ? now : null,
      });
      return id;
    };
    const pending = await mine("pending", 1);
    const redeemed = await mine("redeemed", 2);
    const expired = await mine("expired", 3);
    const revoked = await mine("revoked", 4);
    const handoff = uuidv7();
    await t.db.insert(idvSessions).values({
      id: handoff,
      workflowId: "wf",
      environment: "production",
      region: "us",
      status: "in_progress",
      externalUserId: "ext-7",
      shortCode: `sc-${handoff}`,
      issuedByType: "staff",
      issuedById: support.id,
      createdAt: new Date(now.getTime() - 30_000),
      expiresAt: new Date(now.getTime() + 3_600_000),
    });
    const someoneElses = uuidv7();
    await t.db.insert(idvSessions).values({
      id: someoneElses,
      workflowId: "wf",
      environment: "sandbox",
      region: "us",
      status: "created",
      externalUserId: "ext-8",
      shortCode: `sc-${someoneElses}`,
      issuedByType: "api_key",
      issuedById: "0190a0a0-0000-7000-8000-00000000ffff",
      createdAt: now,
      expiresAt: new Date(now.getTime() + 600_000),
    });

    const list = await issuedByMe(t.db, support, 8, now);
    expect(list.map((i) => [i.kind, i.id, i.state])).toEqual([
      ["handoff", handoff, "in_progress"],
      ["sign_in_token", pending, "pending"],
      ["sign_in_token", redeemed, "redeemed"],
      ["sign_in_token", expired, "expired"],
      ["sign_in_token", revoked, "revoked"],
    ]);
    expect(list[1]!.forWhom).toBe("ov-sandbox");
    await expect(issuedByMe(t.db, auditor, 8, now)).rejects.toMatchObject({ status: 403 });

    const open = await handoffsInProgress(t.db, support, 8, now);
    expect(open.handoffs.map((h) => h.id)).toEqual([someoneElses, handoff]); // soonest to expire first
    expect(open.count).toBe(2);
    const sandboxOnly = await handoffsInProgress(t.db, qa, 8, now);
    expect(sandboxOnly.handoffs.map((h) => h.id)).toEqual([someoneElses]);
    expect((await handoffsInProgress(t.db, support, 8, new Date(now.getTime() + 7_200_000))).handoffs).toEqual([]);
  });
});
