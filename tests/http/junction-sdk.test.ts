/**
 * Junction's own Node SDK (@tryvital/vital-node 3.x), unmodified, pointed at tokendesk with `baseUrl`:
 * the user lifecycle and sign-in tokens a customer backend written against Junction calls, with the
 * errors it maps (401 bad key, 409 taken client_user_id, 404 unknown user), on PostgreSQL.
 */
import { createTokendeskClient, memoryStorage } from "@tokendesk/sdk";
import { VitalClient, VitalError } from "@tryvital/vital-node";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, queryRows } from "@/db/client";
import { baseUrl, mintKey, openTestDb, uniq } from "../helpers/machine-api";

let db: DatabaseHandle;
let vital: VitalClient;
let teamId: string;

beforeAll(async () => {
  db = await openTestDb();
  // The customer backend's code, as written for Junction: only the base URL points elsewhere.
  vital = new VitalClient({ apiKey: (await mintKey(db)).key, baseUrl: baseUrl(), maxRetries: 0 });
  const [row] = await queryRows<{ team_id: string }>(db.db, sql`select team_id from deployment where id = 1`);
  teamId = row!.team_id;
});
afterAll(async () => db?.close());

async function vitalError(promise: Promise<unknown>): Promise<VitalError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VitalError);
  return err as VitalError;
}

describe("@tryvital/vital-node against tokendesk", () => {
  it("user.create, user.get and user.getByClientUserId parse tokendesk's user (team_id, connected_sources, fallbacks)", async () => {
    const clientUserId = uniq("junction");
    const created = await vital.user.create({ clientUserId });
    expect(created).toMatchObject({ clientUserId });
    expect(created.userId).toMatch(/^[0-9a-f-]{36}$/);

    const user = await vital.user.get(created.userId);
    expect(user).toMatchObject({ userId: created.userId, teamId, clientUserId, connectedSources: [] });
    expect(user.createdOn).toBeInstanceOf(Date);
    expect(user.fallbackTimeZone ?? null).toBeNull();
    expect(user.fallbackBirthDate ?? null).toBeNull();

    const resolved = await vital.user.getByClientUserId(clientUserId);
    expect(resolved.userId).toBe(created.userId);
    expect(resolved.teamId).toBe(teamId);
  });

  it("user.getAll pages the key's users newest first with Junction's {users, total, offset, limit}", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await vital.user.create({ clientUserId: uniq("junction-list") })).userId);
    const [live] = await queryRows<{ n: number }>(
      db.db,
      sql`select count(*)::int as n from users where environment = 'sandbox' and region = 'us' and deleted_at is null`,
    );

    const first = await vital.user.getAll({ offset: 0, limit: 2 });
    expect(first).toMatchObject({ total: live!.n, offset: 0, limit: 2 });
    expect(first.users.map((u) => u.userId)).toEqual([ids[2], ids[1]]);
    expect(first.users[0]!.teamId).toBe(teamId);
    const second = await vital.user.getAll({ offset: 2, limit: 1 });
    expect(second.users.map((u) => u.userId)).toEqual([ids[0]]);
    expect(second.offset).toBe(2);
  });

  it("user.getUserSignInToken mints a token that signs the app's SDK in", async () => {
    const { userId } = await vital.user.create({ clientUserId: uniq("junction-token") });
    const minted = await vital.user.getUserSignInToken(userId);
    expect(minted.userId).toBe(userId);
    expect(minted.signInToken).toMatch(/^sit_sandbox_us_/);
    const app = createTokendeskClient({ baseUrl: baseUrl(), storage: memoryStorage() });
    expect(await app.signIn(minted.signInToken)).toEqual({ userId });
  });

  it("user.delete answers {success: true}; the user is then unknown (404)", async () => {
    const { userId } = await vital.user.create({ clientUserId: uniq("junction-delete") });
    expect(await vital.user.delete(userId)).toEqual({ success: true });
    expect((await vitalError(vital.user.get(userId))).statusCode).toBe(404);
    expect((await vitalError(vital.user.delete(userId))).statusCode).toBe(404);
  });

  it("maps tokendesk's errors: a bad key is 401, a taken client_user_id 409 with the existing user, an unknown user 404", async () => {
    const stranger = new VitalClient({ apiKey: "sk_us_not-a-real-key", baseUrl: baseUrl(), maxRetries: 0 });
    expect((await vitalError(stranger.user.getAll())).statusCode).toBe(401);

    const clientUserId = uniq("junction-taken");
    const { userId } = await vital.user.create({ clientUserId });
    const taken = await vitalError(vital.user.create({ clientUserId }));
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toMatchObject({ error: { code: "client_user_id_taken", user_id: userId } });

    const unknown = await vitalError(vital.user.get("0190f5c2-6c1e-7d4a-9b2f-3c4d5e6f7a8b"));
    expect(unknown.statusCode).toBe(404);
    expect((await vitalError(vital.user.getUserSignInToken("0190f5c2-6c1e-7d4a-9b2f-3c4d5e6f7a8b"))).statusCode).toBe(404);
    expect((await vitalError(vital.user.getByClientUserId(uniq("nobody")))).statusCode).toBe(404);
  });
});
