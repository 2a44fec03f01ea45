/**
 * What the console's "Issue sign-in token" relies on, checked at the domain function both the
 * server action and the API call: qa staff are refused for production users and auditors always,
 * with nothing written; a reason is required of staff; the live status is readable only by staff
 * who may see the user, and never contains the token.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { getSignInTokenStatus, issueSignInToken } from "@/lib/sign-in-tokens";
import { createUser, type UserView } from "@/lib/users";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";

const staff = (role: "admin" | "support" | "qa" | "auditor"): Actor => ({
  type: "staff",
  id: `0190a0a0-0000-7000-8000-00000000${{ admin: "0c01", support: "0c02", qa: "0c03", auditor: "0c04" }[role]}`,
  name: `${role}@example.test`,
  role,
});

let t: TestDatabase;
let prod: UserView;
let sandbox: UserView;

beforeAll(async () => {
  t = await createTestDatabase();
  const system = systemActor("console test");
  prod = await createUser(t.db, system, { client_user_id: "console-prod", environment: "production", region: "eu" }, NO_REQUEST);
  sandbox = await createUser(t.db, system, { client_user_id: "console-sbx", environment: "sandbox", region: "eu" }, NO_REQUEST);
});
afterAll(async () => {
  await t.close();
});

describe("issuing sign-in tokens from the console", () => {
  it("refuses qa for a production user and auditors for anyone, writing nothing", async () => {
    const before = await databaseDigest(t.db);
    await expect(issueSignInToken(t.db, staff("qa"), prod.id, { reason: "forced" }, NO_REQUEST)).rejects.toMatchObject({
      status: 403,
      message: "QA staff may only act in the sandbox environment.",
    });
    await expect(issueSignInToken(t.db, staff("auditor"), sandbox.id, { reason: "curious" }, NO_REQUEST)).rejects.toMatchObject({ status: 403 });
    await expectUnchanged(t.db, before);
  });

  it("requires a reason of staff, and lets qa issue in sandbox", async () => {
    await expect(issueSignInToken(t.db, staff("support"), prod.id, { reason: "  " }, NO_REQUEST)).rejects.toMatchObject({
      status: 422,
      code: "reason_required",
    });
    const issued = await issueSignInToken(t.db, staff("qa"), sandbox.id, { reason: "QA run", expiresInSeconds: 300 }, NO_REQUEST);
    expect(issued.signInToken).toMatch(/^sit_sandbox_eu_/);
    expect(issued.expiresAt.getTime() - Date.now()).toBeGreaterThan(290_000);
  });

  it("shows the live state to staff who may see the user, never the token itself", async () => {
    const now = new Date("2032-01-01T10:00:00Z");
    const issued = await issueSignInToken(t.db, staff("support"), prod.id, { reason: "status", expiresInSeconds: 600, now }, NO_REQUEST);
    const status = await getSignInTokenStatus(t.db, staff("auditor"), issued.tokenId, { now: new Date("2032-01-01T10:05:00Z") });
    expect(status).toMatchObject({ id: issued.tokenId, userId: prod.id, state: "pending", redeemedAt: null });
    expect(JSON.stringify(status)).not.toContain(issued.signInToken);
    expect((await getSignInTokenStatus(t.db, staff("auditor"), issued.tokenId, { now: new Date("2032-01-01T10:10:00Z") })).state).toBe("expired");
    await expect(getSignInTokenStatus(t.db, staff("qa"), issued.tokenId)).rejects.toMatchObject({ status: 403 });
    await expect(getSignInTokenStatus(t.db, staff("support"), "not-a-uuid")).rejects.toMatchObject({ status: 404 });
  });
});
