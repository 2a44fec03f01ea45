/**
 * `newId`: UUID v7 from a pooled random source, still what uuid's v7 makes — version 7, RFC 9562
 * variant, in order within this process (also within one millisecond), never repeated, and the
 * pool's bytes used once each (ids past one refill of the pool stay unique and ordered).
 */
import { describe, expect, it } from "vitest";
import { isUuid, newId } from "@/lib/ids";

describe("newId", () => {
  it("makes version 7 UUIDs in order, each one once, across several refills of its random pool", () => {
    const ids = Array.from({ length: 5000 }, newId);
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe("7");
      expect("89ab").toContain(id[19]);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The time in the first 48 bits is now's (to the millisecond, give or take the test's run).
    const ms = Number.parseInt(ids.at(-1)!.replaceAll("-", "").slice(0, 12), 16);
    expect(Math.abs(ms - Date.now())).toBeLessThan(60_000);
  });

  it("takes fresh random bytes for each id: the random tails of consecutive ids differ", () => {
    const tails = Array.from({ length: 2000 }, () => newId().slice(24));
    expect(new Set(tails).size).toBe(tails.length);
  });
});
