/**
 * Races in the domain core, with many callers at once: on PostgreSQL they really run side by side
 * (separate connections, `TEST_DB=postgres`); PGlite runs one transaction at a time, so there the
 * same calls interleave only between transactions and the invariants must hold all the same.
 *  - admins demoting and disabling each other all at once: the last-admin rule still leaves one;
 *  - several instances migrating one empty database at once (the advisory lock of README "Database");
 *  - sign-in tokens minted by an API key (one autocommit statement) while the user is being disabled.
 */
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DatabaseHandle, migrateDatabase, openDatabase, queryRows } from "@/db/client";
import { apiKeyActor, authenticateApiKey, createApiKey } from "@/lib/api-keys";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { changeStaffRole, createStaff, type StaffView, setStaffDisabled } from "@/lib/staff/staff";
import { createUser, setUserDisabled } from "@/lib/users";
import { createPostgresDatabase, createTestDatabase, type TestDatabase, testBackend } from "../helpers/db";

// A fresh embedded database is opened and migrated here (seconds each, far more on a loaded machine).
vi.setConfig({ testTimeout: 300_000 });

const system = systemActor("race test");
const open: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  for (const h of open.splice(0).reverse()) await h.close();
});

const asStaff = (s: StaffView): Actor => ({ type: "staff", id: s.id, name: s.email, role: s.role });

async function activeAdmins(t: TestDatabase): Promise<string[]> {
  const rows = await queryRows<{ email: string }>(t.db, sql`select email from staff where role = 'admin' and disabled_at is null order by email`);
  return rows.map((r) => r.email);
}

describe("the last-admin rule under concurrency", () => {
  it("five admins demoting and disabling each other all at once leave exactly one active admin", async () => {
    const t = await createTestDatabase({ maxConnections: 30 });
    open.push(t);
    for (let round = 0; round < 3; round++) {
      const admins: StaffView[] = [];
      for (let i = 0; i < 5; i++) {
        admins.push(await createStaff(t.db, system, { email: `admin-${round}-${i}@race.test`, role: "admin" }, NO_REQUEST));
      }
      // Demote or disable the previous rounds' admins first, one by one, so each round starts with five.
      const others = (await activeAdmins(t)).filter((e) => !e.startsWith(`admin-${round}-`));
      for (const email of others) {
        const [row] = await queryRows<{ id: string }>(t.db, sql`select id::text as id from staff where email = ${email}`);
        await changeStaffRole(t.db, system, row!.id, "support", NO_REQUEST);
      }
      expect(await activeAdmins(t)).toHaveLength(5);

      // Every admin acts on every other one at once: half demote, half disable.
      const calls = admins.flatMap((actor, i) =>
        admins
          .filter((target) => target.id !== actor.id)
          .map((target, j) =>
            (i + j) % 2 === 0
              ? changeStaffRole(t.db, asStaff(actor), target.id, "auditor", NO_REQUEST)
              : setStaffDisabled(t.db, asStaff(actor), target.id, true, { reason: "race" }, NO_REQUEST),
          ),
      );
      const results = await Promise.allSettled(calls);
      const refusals = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
      // Refused calls are refused by the rule (409 last_admin), or because the actor was itself
      // demoted or disabled a moment earlier; never by a deadlock or another database error.
      for (const err of refusals) {
        expect(err, String(err)).toBeInstanceOf(DomainError);
        expect(["last_admin", "forbidden"]).toContain((err as DomainError).code);
      }
      expect(await activeAdmins(t), `round ${round}`).toHaveLength(1);
    }
  });
});

describe("sign-in tokens minted while the user is being disabled", () => {
  it("mints waiting on a disable's row lock all refuse once it commits; mints beside a disable write a token and its audit event, or nothing", async () => {
    const t = await createTestDatabase({ maxConnections: 30 });
    open.push(t);
    const { key } = await createApiKey(
      t.db,
      system,
      { name: "race key", environment: "sandbox", region: "us", scopes: ["users:write", "sign_in_tokens:write"] },
      NO_REQUEST,
    );
    const actor = apiKeyActor(await authenticateApiKey(t.db, key, null));
    const user = await createUser(t.db, actor, { client_user_id: "race-user" }, NO_REQUEST);
    const mint = () =>
      issueSignInToken(t.db, actor, user.id, {}, NO_REQUEST).then(
        (issued) => issued.tokenId,
        (err: unknown) => (err instanceof DomainError ? err.code : String(err)),
      );
    const written = async () => {
      const [row] = await queryRows<{ tokens: number; events: number }>(
        t.db,
        sql`select (select count(*)::int from sign_in_tokens where user_id = ${user.id}::uuid) as tokens,
                   (select count(*)::int from audit_events where action = 'sign_in_token.issued' and target_id = ${user.id}) as events`,
      );
      return { tokens: Number(row!.tokens), events: Number(row!.events) };
    };

    // The first mint reads the environment's settings in a transaction; from then on a mint is the
    // one autocommit statement (no transaction at all), which is what this test races.
    await mint();
    const transactions = vi.spyOn(t.db, "transaction");
    expect(await mint()).toMatch(/^[0-9a-f-]{36}$/);
    expect(transactions).not.toHaveBeenCalled();
    transactions.mockRestore();
    expect(await written()).toEqual({ tokens: 2, events: 2 });

    // 1. A disable holds the user's row lock (its UPDATE done, not yet committed) while 20 mints
    // come in. On PostgreSQL they wait on the lock (checked below), then re-check the row and find
    // it disabled; PGlite runs them after the disable's transaction.
    let locked!: () => void;
    let commit!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const mayCommit = new Promise<void>((resolve) => (commit = resolve));
    const disabling = t.db.transaction(async (tx) => {
      await tx.execute(sql`update users set disabled_at = now() where id = ${user.id}::uuid`);
      locked();
      await mayCommit;
    });
    await isLocked;
    let settled = 0;
    const waiting = Array.from({ length: 20 }, () => mint().finally(() => settled++));
    if (t.backend === "postgres") {
      // Until all 20 wait on the lock; a mint that does not wait settles, and the assertion below names it.
      while (settled === 0) {
        const [row] = await queryRows<{ n: number }>(
          t.db,
          sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        );
        if (Number(row!.n) >= 20) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    commit();
    await disabling;
    expect(await Promise.all(waiting)).toEqual(Array(20).fill("user_disabled"));
    expect(await written()).toEqual({ tokens: 2, events: 2 });

    // 2. Enabled again, 30 mints with the real disable among them: each one either wrote its token
    // and its audit event or refused with user_disabled and wrote nothing; after it, all refuse.
    await setUserDisabled(t.db, system, user.id, false, {}, NO_REQUEST);
    const beside = Array.from({ length: 30 }, mint);
    const disabled = setUserDisabled(t.db, system, user.id, true, {}, NO_REQUEST);
    beside.push(...Array.from({ length: 10 }, mint));
    await disabled;
    const outcomes = await Promise.all(beside);
    const issued = outcomes.filter((o) => o !== "user_disabled");
    for (const id of issued) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await written()).toEqual({ tokens: 2 + issued.length, events: 2 + issued.length });
    expect(await mint()).toBe("user_disabled");
  });
});

describe("several instances migrating one empty database at once", () => {
  if (testBackend() === "postgres") {
    it("four PostgreSQL connections run migrateDatabase together: each migration is applied once, all of them succeed", async () => {
      const created = await createPostgresDatabase("td_race_migrate");
      open.push({ close: created.drop });
      const handles: DatabaseHandle[] = [];
      for (let i = 0; i < 4; i++) handles.push(await openDatabase({ databaseUrl: created.url, maxConnections: 2 }));
      open.push(...handles);
      await Promise.all(handles.map((h) => migrateDatabase(h)));
      await expectMigratedOnce(handles[0]!);
    });
  } else {
    it("four callers of migrateDatabase on one embedded database: each migration is applied once, all of them succeed", async () => {
      const handle = await openDatabase({ databaseUrl: null, dataDir: null });
      open.push(handle);
      await Promise.all([1, 2, 3, 4].map(() => migrateDatabase(handle)));
      await expectMigratedOnce(handle);
    });
  }
});

async function expectMigratedOnce(handle: DatabaseHandle): Promise<void> {
  const { expectedSchemaVersion } = await import("@/db/client");
  const applied = await queryRows<{ hash: string; n: number }>(handle.db, sql`select hash, count(*)::int as n from drizzle.__drizzle_migrations group by hash`);
  expect(applied).toHaveLength(expectedSchemaVersion());
  expect(applied.every((r) => Number(r.n) === 1)).toBe(true);
  // The schema is whole: a table from the first migration and one from the last are there.
  const tables = await queryRows<{ name: string }>(handle.db, sql`select tablename as name from pg_tables where schemaname = 'public'`);
  expect(tables.map((r) => r.name)).toEqual(expect.arrayContaining(["staff", "audit_events", "devices", "device_refresh_tokens"]));
}
