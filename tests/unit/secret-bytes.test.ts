/**
 * The secrets' building blocks: base62 (long division on 32-bit limbs) writes exactly the digits of
 * the number the bytes make — checked against BigInt division — so tokens and the checksums of tokens
 * minted before keep their meaning; secretBytes hands out fresh bytes of the length asked, never the
 * same ones twice, across refills of its pool.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { base62, SECRET_BODY_LENGTH } from "@/lib/api-keys/format";
import { secretBytes } from "@/lib/crypto/random";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** The previous implementation, as the reference. */
function base62BigInt(bytes: Buffer, width?: number): string {
  let n = BigInt(`0x${bytes.toString("hex") || "0"}`);
  let out = "";
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return width ? out.padStart(width, "0") : out || "0";
}

describe("base62", () => {
  it("writes the same digits as BigInt division, for every length and edge value", () => {
    const cases: Buffer[] = [
      Buffer.alloc(0),
      Buffer.alloc(32),
      Buffer.alloc(32, 0xff),
      Buffer.from([0, 0, 0, 0, 0, 61]),
      Buffer.from([0, 0, 0, 62]),
      Buffer.from([1, 0, 0, 0, 0]),
      Buffer.from("ffffffff00000000ffffffff", "hex"),
    ];
    for (let len = 1; len <= 40; len++) for (let k = 0; k < 20; k++) cases.push(randomBytes(len));
    for (const b of cases) {
      expect(base62(b)).toBe(base62BigInt(b));
      expect(base62(b, SECRET_BODY_LENGTH)).toBe(base62BigInt(b, SECRET_BODY_LENGTH));
      expect(base62(b, 6)).toBe(base62BigInt(b, 6));
    }
  });

  it("a 256-bit secret fits the 43 characters of a token body", () => {
    expect(base62(Buffer.alloc(32, 0xff))).toHaveLength(SECRET_BODY_LENGTH);
  });
});

describe("secretBytes", () => {
  it("hands out bytes of the length asked, never the same ones twice, across pool refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const b = secretBytes(32);
      expect(b).toHaveLength(32);
      seen.add(b.toString("hex"));
    }
    expect(seen.size).toBe(2000); // 64 KB drawn: eight refills of the 8 KB pool
    expect(secretBytes(7)).toHaveLength(7);
    expect(secretBytes(20_000)).toHaveLength(20_000); // larger than the pool: straight from the generator
  });

  it("returns a copy the caller owns", () => {
    const a = secretBytes(16);
    const keep = Buffer.from(a);
    secretBytes(16);
    a.fill(0);
    expect(secretBytes(16).equals(keep)).toBe(false);
    expect(keep.equals(Buffer.alloc(16))).toBe(false);
  });
});
