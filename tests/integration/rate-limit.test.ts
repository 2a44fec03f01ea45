/** Rate-limit buckets in the database (lib/rate-limit), with the clock injected. */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { admit, FailureLimit, humanDuration, type Limit, peekLimit, refund, resetLimit, sweepExpiredLimits } from "@/lib/rate-limit";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const fixed: Limit = { max: 3, windowSeconds: 60 };
const progressive: Limit = { max: 2, windowSeconds: 600, backoff: { baseSeconds: 10, maxSeconds: 60 } };
const t0 = new Date("2030-06-01T12:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.close();
});

async function rows() {
  const [r] = await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from rate_limits`);
  return Number(r!.n);
}

describe("rate limits", () => {
  it("fixed window: admits max attempts, refuses until the window ends, then starts afresh", async () => {
    const key = "test:window";
    expect(await peekLimit(t.db, key, t0)).toEqual({ count: 0, blocked: false, retryAfterSeconds: 0 });
    expect(await admit(t.db, key, fixed, at(0))).toEqual({ admitted: true, count: 1, retryAfterSeconds: 0, blockedNow: false });
    expect(await admit(t.db, key, fixed, at(10))).toEqual({ admitted: true, count: 2, retryAfterSeconds: 0, blockedNow: false });
    // The third fills the window: admitted, and the bucket blocks until the window (from t0) ends.
    expect(await admit(t.db, key, fixed, at(20))).toEqual({ admitted: true, count: 3, retryAfterSeconds: 40, blockedNow: true });
    expect(await admit(t.db, key, fixed, at(30))).toEqual({ admitted: false, count: 3, retryAfterSeconds: 30, blockedNow: false });
    expect(await peekLimit(t.db, key, at(59))).toEqual({ count: 3, blocked: true, retryAfterSeconds: 1 });
    expect(await peekLimit(t.db, key, at(60))).toMatchObject({ count: 0, blocked: false });
    expect(await admit(t.db, key, fixed, at(61))).toMatchObject({ admitted: true, count: 1 });
  });

  it("progressive: free attempts, then waits that double up to the cap, forgotten after a quiet window", async () => {
    const key = "test:progressive";
    expect(await admit(t.db, key, progressive, at(0))).toMatchObject({ admitted: true, count: 1, blockedNow: false });
    expect(await admit(t.db, key, progressive, at(1))).toMatchObject({ admitted: true, count: 2, retryAfterSeconds: 10, blockedNow: true });
    expect(await admit(t.db, key, progressive, at(5))).toMatchObject({ admitted: false, retryAfterSeconds: 6 });
    expect(await admit(t.db, key, progressive, at(11))).toMatchObject({ admitted: true, count: 3, retryAfterSeconds: 20 });
    expect(await admit(t.db, key, progressive, at(31))).toMatchObject({ admitted: true, count: 4, retryAfterSeconds: 40 });
    expect(await admit(t.db, key, progressive, at(71))).toMatchObject({ admitted: true, count: 5, retryAfterSeconds: 60 });
    expect(await admit(t.db, key, progressive, at(131))).toMatchObject({ admitted: true, count: 6, retryAfterSeconds: 60 }); // capped
    // Refused attempts do not lengthen the wait: only admitted ones do.
    for (let s = 132; s < 190; s += 5) expect((await admit(t.db, key, progressive, at(s))).admitted).toBe(false);
    expect(await admit(t.db, key, progressive, at(191))).toMatchObject({ admitted: true, count: 7 });
    // Ten quiet minutes after the last block ended, the streak is forgotten.
    expect(await admit(t.db, key, progressive, at(251 + 600))).toMatchObject({ admitted: true, count: 1, blockedNow: false });
  });

  it("refunds an attempt and forgets a key when reset, keeping keys apart", async () => {
    for (let i = 0; i < 2; i++) await admit(t.db, "test:a", fixed, t0);
    await refund(t.db, "test:a", t0);
    expect(await admit(t.db, "test:a", fixed, t0)).toMatchObject({ count: 2, blockedNow: false });
    await admit(t.db, "test:b", fixed, t0);
    await resetLimit(t.db, "test:a");
    expect(await peekLimit(t.db, "test:a", t0)).toMatchObject({ count: 0, blocked: false });
    expect(await peekLimit(t.db, "test:b", t0)).toMatchObject({ count: 1 });
  });

  it("of many concurrent attempts admits exactly as many as the bucket has room for", async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => admit(t.db, "test:concurrent", { max: 7, windowSeconds: 60 }, t0)));
    expect(results.filter((r) => r.admitted)).toHaveLength(7);
    expect(
      results
        .filter((r) => r.admitted)
        .map((r) => r.count)
        .sort((a, b) => a - b),
    ).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(results.filter((r) => !r.admitted && r.retryAfterSeconds === 60)).toHaveLength(33);
  });

  it("a failure limit remembers a blocked bucket: further failures cost no write", async () => {
    const failures = new FailureLimit({ max: 2, windowSeconds: 60 });
    expect(await failures.fail(t.db, ["test:fail"], t0)).toBeNull();
    expect(await failures.fail(t.db, ["test:fail"], t0)).toBeNull(); // this one blocks the bucket
    await t.db.execute(sql`delete from rate_limits where key = 'test:fail'`);
    // Known blocked in this process: refused without asking the database (the row is gone).
    expect(await failures.fail(t.db, ["test:fail"], at(1))).toMatchObject({ admitted: false, retryAfterSeconds: 59 });
    expect(await peekLimit(t.db, "test:fail", at(1))).toMatchObject({ count: 0 });
    // The first key refusing stops the count: the second is not touched.
    expect(await failures.fail(t.db, ["test:fail", "test:fail-second"], at(2))).toMatchObject({ admitted: false });
    expect(await peekLimit(t.db, "test:fail-second", at(2))).toMatchObject({ count: 0 });
  });

  it("sweeps expired buckets and keeps live ones", async () => {
    await t.db.execute(sql`delete from rate_limits`);
    for (let i = 0; i < 5; i++) await admit(t.db, `test:sweep-${i}`, fixed, t0);
    await admit(t.db, "test:sweep-live", fixed, at(100));
    expect(await rows()).toBe(6);
    expect(await sweepExpiredLimits(t.db, at(120))).toBe(5);
    expect(await rows()).toBe(1);
  });

  it("says durations in words", () => {
    expect(humanDuration(1)).toBe("1 second");
    expect(humanDuration(40)).toBe("40 seconds");
    expect(humanDuration(89)).toBe("89 seconds");
    expect(humanDuration(90)).toBe("2 minutes");
    expect(humanDuration(900)).toBe("15 minutes");
  });
});
