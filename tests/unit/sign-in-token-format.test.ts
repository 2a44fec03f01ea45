/**
 * Sign-in and refresh token formats: self-describing where an SDK needs it (environment, region),
 * 256 random bits, and a checksum that makes a mistyped or forged token fail offline.
 */
import { describe, expect, it } from "vitest";
import { formatRefreshToken, formatSignInToken, isRefreshTokenShape, parseSignInToken } from "@/lib/sign-in-tokens/format";

describe("sign-in token format", () => {
  it("carries environment and region readable offline", () => {
    const token = formatSignInToken("production", "eu");
    expect(token).toMatch(/^sit_production_eu_[0-9A-Za-z]{49}$/);
    expect(parseSignInToken(token)).toEqual({ environment: "production", region: "eu" });
    expect(parseSignInToken(formatSignInToken("sandbox", "us"))).toEqual({ environment: "sandbox", region: "us" });
  });

  it("is never the same twice", () => {
    const seen = new Set(Array.from({ length: 500 }, () => formatSignInToken("sandbox", "us")));
    expect(seen.size).toBe(500);
  });

  it("refuses a changed character, a relabelled environment and other shapes", () => {
    const token = formatSignInToken("sandbox", "us");
    const i = token.length - 10;
    const flipped = token.slice(0, i) + (token[i] === "a" ? "b" : "a") + token.slice(i + 1);
    expect(parseSignInToken(flipped)).toBeNull();
    expect(parseSignInToken(token.replace("sit_sandbox_", "sit_production_"))).toBeNull();
    expect(parseSignInToken(token.replace("_us_", "_eu_"))).toBeNull();
    for (const bad of ["", "sit_", `${token}x`, token.slice(1), 42, null, `sk_us_${token.slice(15)}`]) expect(parseSignInToken(bad)).toBeNull();
  });

  it("refresh tokens are checksummed too and do not parse as sign-in tokens", () => {
    const rt = formatRefreshToken();
    expect(isRefreshTokenShape(rt)).toBe(true);
    expect(isRefreshTokenShape(rt.slice(0, -1) + (rt.endsWith("a") ? "b" : "a"))).toBe(false);
    expect(parseSignInToken(rt)).toBeNull();
    expect(isRefreshTokenShape(formatSignInToken("sandbox", "us"))).toBe(false);
  });
});
