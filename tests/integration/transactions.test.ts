/**
 * db/client.ts's transactions: commitWith hands an operation's last writes to its COMMIT (on
 * PostgreSQL sent behind them without waiting; on PGlite awaited). Whichever way, the caller gets
 * its value only once everything committed, and a failing last write fails the transaction with its
 * own error and leaves nothing behind.
 */
import net from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitWith, queryRows } from "@/db/client";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.execute(sql`create table commit_with_probe (id int primary key, note text not null)`);
});
afterAll(async () => {
  await t.close();
});

const ids = async () => (await queryRows<{ id: number }>(t.db, sql`select id from commit_with_probe order by id`)).map((r) => r.id);
const insert = (tx: Parameters<Parameters<TestDatabase["db"]["transaction"]>[0]>[0], id: number) =>
  queryRows(tx, sql`insert into commit_with_probe (id, note) values (${id}, 'x')`, { prepare: true });

describe("commitWith", () => {
  it("returns the callback's value once the writes and the commit are done", async () => {
    const value = await t.db.transaction(async (tx) => {
      await insert(tx, 1);
      return commitWith(tx, Promise.all([insert(tx, 2), insert(tx, 3)]), { done: true });
    });
    expect(value).toEqual({ done: true });
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it("fails the transaction with the failing write's own error, and commits nothing of it", async () => {
    const err = await t.db
      .transaction(async (tx) => {
        await insert(tx, 10);
        // 1 exists: the second write violates the primary key.
        return commitWith(tx, Promise.all([insert(tx, 11), insert(tx, 1)]), "never");
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(Error);
    // The database's own error (unique violation), not a generic "rolled back".
    const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    expect(code).toBe("23505");
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it("a last write that fails before reaching the server rolls back the writes before it", async () => {
    // An audit row whose builder throws (recordAudit is async) never reaches PostgreSQL, so it cannot
    // answer COMMIT with ROLLBACK: the transaction must not send COMMIT at all.
    for (const refuse of [
      async () => {
        throw new Error("builder refused");
      },
      async () => {
        await null;
        throw new Error("builder refused");
      },
      () => Promise.resolve().then(() => Promise.reject(new Error("builder refused"))),
    ]) {
      const err = await t.db
        .transaction(async (tx) => {
          await insert(tx, 20);
          return commitWith(tx, Promise.all([insert(tx, 21), refuse()]), "never");
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect((err as Error).message).toBe("builder refused");
      expect(await ids()).toEqual([1, 2, 3]);
    }
  });

  it("on PostgreSQL a large last write and its COMMIT leave in one socket write", async () => {
    // Statements without parameters: prepared on first use with no round trip of their own, so the
    // count is the same on every pooled connection. BEGIN + the first statement go out in one write;
    // the last write (≥ 1 KB: the size of an exchange's audit INSERT) and COMMIT in one more
    // (db/pg-socket.ts holds the large write back until postgres.js flushes the COMMIT).
    const note = "x".repeat(3000);
    const proto = net.Socket.prototype as unknown as Record<"_write" | "_writev", (this: net.Socket, ...a: unknown[]) => void>;
    const original = { _write: proto._write, _writev: proto._writev };
    let writes = 0;
    const dbPort = t.kind === "postgres" ? Number(new URL(t.url!).port) : -1;
    for (const name of ["_write", "_writev"] as const) {
      proto[name] = function (this: net.Socket, ...a: unknown[]) {
        if (this.remotePort === dbPort) writes++;
        return original[name].apply(this, a);
      };
    }
    try {
      for (const id of [30, 31, 32]) {
        writes = 0;
        const value = await t.db.transaction(async (tx) => {
          await queryRows(tx, sql.raw("select 1"));
          return commitWith(tx, queryRows(tx, sql.raw(`insert into commit_with_probe (id, note) values (${id}, '${note}')`)), id);
        });
        expect(value).toBe(id);
        if (t.kind === "postgres") expect(writes).toBe(2);
      }
    } finally {
      Object.assign(proto, original);
    }
    expect((await ids()).filter((id) => id >= 30 && id < 40)).toEqual([30, 31, 32]);
  });

  it("many concurrent transactions each commit exactly their own writes", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 24 }, (_, i) =>
        t.db.transaction(async (tx) => {
          await insert(tx, 100 + i);
          // Every third one fails on its last write (a duplicate of its own first row).
          return commitWith(tx, insert(tx, i % 3 === 0 ? 100 + i : 200 + i), i);
        }),
      ),
    );
    const committed = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(committed.sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i).filter((i) => i % 3 !== 0));
    const rows = await ids();
    for (let i = 0; i < 24; i++) {
      expect(rows.includes(100 + i)).toBe(i % 3 !== 0);
      expect(rows.includes(200 + i)).toBe(i % 3 !== 0);
    }
  });
});
