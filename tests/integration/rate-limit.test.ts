/** Fixed-window counters in the database (lib/rate-limit), with the clock injected. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hitLimit, humanDuration, type Limit, peekLimit, resetLimit } from "@/lib/rate-limit";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const limit: Limit = { max: 3, windowSeconds: 60 };
const t0 = new Date("2030-06-01T12:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.close();
});

describe("rate limits", () => {
  it("counts within a window, reports when it frees up, and restarts after it", async () => {
    const key = "test:window";
    expect(await peekLimit(t.db, key, limit, t0)).toEqual({ count: 0, limited: false, retryAfterSeconds: 0 });
    expect(await hitLimit(t.db, key, limit, at(0))).toEqual({ count: 1, limited: false, retryAfterSeconds: 60 });
    expect(await hitLimit(t.db, key, limit, at(10))).toEqual({ count: 2, limited: false, retryAfterSeconds: 50 });
    expect(await hitLimit(t.db, key, limit, at(20))).toEqual({ count: 3, limited: true, retryAfterSeconds: 40 });
    expect(await peekLimit(t.db, key, limit, at(59))).toEqual({ count: 3, limited: true, retryAfterSeconds: 1 });
    // The window (started at t0) is over at t0+60s: peeking sees nothing, the next hit starts afresh.
    expect(await peekLimit(t.db, key, limit, at(60))).toMatchObject({ count: 0, limited: false });
    expect(await hitLimit(t.db, key, limit, at(61))).toEqual({ count: 1, limited: false, retryAfterSeconds: 60 });
    expect(await hitLimit(t.db, key, limit, at(62))).toMatchObject({ count: 2, retryAfterSeconds: 59 });
  });

  it("keeps keys apart and forgets a key when reset", async () => {
    for (let i = 0; i < 3; i++) await hitLimit(t.db, "test:a", limit, t0);
    await hitLimit(t.db, "test:b", limit, t0);
    expect((await peekLimit(t.db, "test:a", limit, t0)).limited).toBe(true);
    expect(await peekLimit(t.db, "test:b", limit, t0)).toMatchObject({ count: 1, limited: false });
    await resetLimit(t.db, "test:a");
    expect(await peekLimit(t.db, "test:a", limit, t0)).toMatchObject({ count: 0, limited: false });
    expect(await peekLimit(t.db, "test:b", limit, t0)).toMatchObject({ count: 1 });
  });

  it("counts every one of many concurrent hits", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => hitLimit(t.db, "test:concurrent", { max: 100, windowSeconds: 60 }, t0)));
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("says durations in words", () => {
    expect(humanDuration(1)).toBe("1 second");
    expect(humanDuration(40)).toBe("40 seconds");
    expect(humanDuration(89)).toBe("89 seconds");
    expect(humanDuration(90)).toBe("2 minutes");
    expect(humanDuration(900)).toBe("15 minutes");
  });
});
