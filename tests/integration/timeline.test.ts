/**
 * The user timeline (lib/users/timeline.ts): every event about one user — its own, its sign-in
 * tokens', its SDK sessions', and those naming it only in details — newest first, each exactly once
 * across keyset pages, nothing about anyone else; qa staff cannot read a production user's history.
 */

import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idvSessions, sdkSessions, signInTokens } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { createUser, deleteUser, setUserDisabled, type UserView } from "@/lib/users";
import { getUserTimeline, type TimelineEvent } from "@/lib/users/timeline";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const support: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000b2", name: "sam@example.test", role: "support" };
const qa: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000b3", name: "quinn@example.test", role: "qa" };
const auditor: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000b4", name: "avery@example.test", role: "auditor" };
const admin: Actor = { type: "staff", id: "0190a0a0-0000-7000-8000-0000000000b1", name: "ada@example.test", role: "admin" };
const system = systemActor("timeline test");

let t: TestDatabase;
let alice: UserView; // production
let bob: UserView; // production, the "someone else"
let sandy: UserView; // sandbox
const t0 = Date.parse("2031-05-01T12:00:00Z");
const at = (minutes: number) => new Date(t0 + minutes * 60_000);

async function session(userId: string, environment: "sandbox" | "production") {
  const id = uuidv7();
  await t.db.insert(sdkSessions).values({ id, userId, environment, region: "us", installationId: `inst-${id.slice(-4)}`, expiresAt: at(60 * 24 * 365) });
  return id;
}

async function signInToken(userId: string, environment: "sandbox" | "production") {
  const id = uuidv7();
  await t.db
    .insert(signInTokens)
    .values({ id, userId, environment, region: "us", tokenHash: `hash-${id}`, expiresAt: at(10), issuedByType: "staff", issuedById: support.id });
  return id;
}

beforeAll(async () => {
  t = await createTestDatabase();
  alice = await createUser(
    t.db,
    system,
    { client_user_id: "alice-001", email: "alice@example.test", name: "Alice", environment: "production", region: "us" },
    NO_REQUEST,
  );
  bob = await createUser(t.db, system, { client_user_id: "bob-001", environment: "production", region: "us" }, NO_REQUEST);
  sandy = await createUser(t.db, system, { client_user_id: "sandy-001", environment: "sandbox", region: "us" }, NO_REQUEST);

  const aliceToken = await signInToken(alice.id, "production");
  const aliceSession = await session(alice.id, "production");
  const aliceIdv = uuidv7();
  await t.db.insert(idvSessions).values({
    id: aliceIdv,
    workflowId: "kyc",
    environment: "production",
    region: "us",
    status: "submitted",
    userId: alice.id,
    shortCode: "tl-alice",
    issuedByType: "staff",
    expiresAt: at(60),
  });
  const bobToken = await signInToken(bob.id, "production");
  const bobSession = await session(bob.id, "production");

  // Alice's history, oldest first; several events share a timestamp so the id must order them.
  const aliceEvents: Array<Parameters<typeof recordAudit>[1]> = [
    {
      actor: support,
      action: "sign_in_token.issued",
      target: { type: "sign_in_token", id: aliceToken },
      environment: "production",
      reason: "locked out",
      details: { userId: alice.id },
      occurredAt: at(1),
    },
    {
      actor: { type: "anonymous", id: null, name: null },
      action: "sign_in_token.redeemed",
      target: { type: "sign_in_token", id: aliceToken },
      environment: "production",
      details: { userId: alice.id, sessionId: aliceSession },
      occurredAt: at(2),
    },
    // Targets the session but carries no userId: found through sdk_sessions.
    {
      actor: system,
      action: "sdk_session.started",
      target: { type: "sdk_session", id: aliceSession },
      environment: "production",
      details: { installationId: "inst-a" },
      occurredAt: at(2),
    },
    // Names alice only in details, with another target.
    {
      actor: system,
      action: "migration.completed",
      target: { type: "api_key", id: uuidv7() },
      environment: "production",
      details: { userId: alice.id, installationId: "inst-a" },
      occurredAt: at(2),
    },
    {
      actor: system,
      action: "refresh_token.reuse_detected",
      target: null,
      environment: "production",
      outcome: "failure",
      details: { userId: alice.id, sessionId: aliceSession },
      occurredAt: at(3),
    },
    {
      actor: support,
      action: "sdk_session.revoked",
      target: { type: "sdk_session", id: aliceSession },
      environment: "production",
      reason: "lost phone",
      details: { userId: alice.id },
      occurredAt: at(4),
    },
    // An IDV session of hers, whose later events no longer name her: found through idv_sessions.
    {
      actor: { type: "ephemeral_token", id: uuidv7(), name: null },
      action: "idv_session.submitted",
      target: { type: "idv_session", id: aliceIdv },
      environment: "production",
      details: { workflowId: "kyc" },
      occurredAt: at(5),
    },
  ];
  // Bob's, interleaved: none of it may show on alice's timeline.
  const bobEvents: Array<Parameters<typeof recordAudit>[1]> = [
    {
      actor: support,
      action: "sign_in_token.issued",
      target: { type: "sign_in_token", id: bobToken },
      environment: "production",
      reason: "bob",
      details: { userId: bob.id },
      occurredAt: at(1),
    },
    {
      actor: system,
      action: "sdk_session.started",
      target: { type: "sdk_session", id: bobSession },
      environment: "production",
      details: { userId: bob.id },
      occurredAt: at(2),
    },
    {
      actor: system,
      action: "migration.rejected",
      target: { type: "api_key", id: uuidv7() },
      environment: "production",
      outcome: "failure",
      details: { userId: bob.id, previousUserId: alice.id },
      occurredAt: at(3),
    },
    // An unrelated action that merely mentions alice's id in details is not about her.
    {
      actor: admin,
      action: "settings.changed",
      target: { type: "environment", id: "production" },
      environment: "production",
      details: { userId: alice.id },
      occurredAt: at(3),
    },
  ];
  await t.db.transaction(async (tx) => {
    for (const e of [...aliceEvents, ...bobEvents]) await recordAudit(tx, e, NO_REQUEST);
  });
  // Through the domain, "now": newest of all.
  await setUserDisabled(t.db, support, alice.id, true, { reason: "fraud check" }, NO_REQUEST);
  await setUserDisabled(t.db, support, alice.id, false, { reason: "cleared" }, NO_REQUEST);
});

afterAll(async () => {
  await t.close();
});

async function everything(actor: Actor, userId: string, limit: number): Promise<{ events: TimelineEvent[]; pages: number }> {
  const events: TimelineEvent[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await getUserTimeline(t.db, actor, userId, { cursor, limit });
    expect(page.events.length).toBeLessThanOrEqual(limit);
    events.push(...page.events);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { events, pages };
}

function newestFirst(events: TimelineEvent[]) {
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    expect(a.occurredAt.getTime() > b.occurredAt.getTime() || (a.occurredAt.getTime() === b.occurredAt.getTime() && a.id > b.id)).toBe(true);
  }
}

describe("user timeline", () => {
  it("shows every event about the user across schemes, newest first, and nothing about anyone else", async () => {
    const { events } = await getUserTimeline(t.db, support, alice.id, { limit: 200 });
    newestFirst(events);
    // user.created, disabled and enabled happened at the real now (before 2031); the seeded 2031
    // events therefore come first, newest first, ties broken by id.
    const seeded = events.filter((e) => e.occurredAt.getTime() >= t0);
    expect(seeded.map((e) => e.action)).toEqual([
      "idv_session.submitted",
      "sdk_session.revoked",
      "refresh_token.reuse_detected",
      ...["sign_in_token.redeemed", "sdk_session.started", "migration.completed"].sort((x, y) => {
        const ex = seeded.find((e) => e.action === x)!;
        const ey = seeded.find((e) => e.action === y)!;
        return ex.id < ey.id ? 1 : -1;
      }),
      "sign_in_token.issued",
    ]);
    expect(events.filter((e) => e.occurredAt.getTime() < t0).map((e) => e.action)).toEqual(["user.enabled", "user.disabled", "user.created"]);
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.details.userId === undefined || e.details.userId === alice.id)).toBe(true);
    expect(events.some((e) => e.action === "settings.changed" || e.action === "migration.rejected")).toBe(false);
    const issued = events.find((e) => e.action === "sign_in_token.issued")!;
    expect(issued).toMatchObject({
      title: "Sign-in token issued",
      reason: "locked out",
      actor: { type: "staff", name: "sam@example.test" },
      environment: "production",
    });
    expect(events.find((e) => e.action === "user.disabled")).toMatchObject({ reason: "fraud check", target: { type: "user", id: alice.id } });
  });

  it("pages through the timeline with each event exactly once, in order", async () => {
    const all = (await getUserTimeline(t.db, support, alice.id, { limit: 200 })).events.map((e) => e.id);
    for (const size of [1, 2, 4]) {
      const { events, pages } = await everything(support, alice.id, size);
      expect(events.map((e) => e.id)).toEqual(all);
      expect(pages).toBe(Math.ceil(all.length / size));
    }
  });

  it("shows the other user only their own events", async () => {
    const { events } = await getUserTimeline(t.db, auditor, bob.id);
    expect(events.map((e) => e.action).sort()).toEqual(["migration.rejected", "sdk_session.started", "sign_in_token.issued", "user.created"]);
  });

  it("keeps the history of a deleted user readable", async () => {
    const gone = await createUser(t.db, system, { client_user_id: "gone-001", environment: "sandbox", region: "us" }, NO_REQUEST);
    await deleteUser(t.db, admin, gone.id, { reason: "GDPR request" }, NO_REQUEST);
    const { events } = await getUserTimeline(t.db, qa, gone.id);
    expect(events.map((e) => e.action)).toEqual(["user.deleted", "user.created"]);
    expect(events[0]!.reason).toBe("GDPR request");
  });

  it("lets qa read sandbox users only, and refuses unknown users and bad cursors", async () => {
    await expect(getUserTimeline(t.db, qa, sandy.id)).resolves.toMatchObject({ events: [{ action: "user.created" }] });
    await expect(getUserTimeline(t.db, qa, alice.id)).rejects.toMatchObject({ status: 403, message: "QA staff may only act in the sandbox environment." });
    await expect(getUserTimeline(t.db, support, uuidv7())).rejects.toMatchObject({ status: 404 });
    await expect(getUserTimeline(t.db, support, "not-a-uuid")).rejects.toMatchObject({ status: 404 });
    await expect(getUserTimeline(t.db, support, alice.id, { cursor: "garbage" })).rejects.toMatchObject({ status: 400, code: "invalid_cursor" });
  });

  it("clamps the page size", async () => {
    expect((await getUserTimeline(t.db, support, alice.id, { limit: 0 })).events).toHaveLength(1);
    expect((await getUserTimeline(t.db, support, alice.id, { limit: 10_000 })).events).toHaveLength(10);
  });
});
