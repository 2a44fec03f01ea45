/**
 * Where the console sends a member after sign-in (issue 14, point 3): back to the page they opened,
 * only when it is one of this console's own paths; anything else lands on Overview.
 */
import { describe, expect, it } from "vitest";
import { loginPathFor, safeReturnPath } from "@/server/return-to";

const PUBLIC = "https://desk.example.com";

describe("safeReturnPath", () => {
  it("keeps the console's own paths with their query and fragment", () => {
    expect(safeReturnPath("/users/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", PUBLIC)).toBe("/users/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    expect(safeReturnPath("/audit?action=user.created&environment=sandbox#top", PUBLIC)).toBe("/audit?action=user.created&environment=sandbox#top");
    expect(safeReturnPath(`${PUBLIC}/handoffs?status=created`, PUBLIC)).toBe("/handoffs?status=created");
  });

  it("refuses other origins, scheme-relative and backslash tricks, schemes, and control characters", () => {
    for (const evil of [
      "https://evil.example/users",
      "//evil.example/users",
      "/\\evil.example",
      "\\\\evil.example",
      "/%5Cevil.example",
      "javascript:alert(1)",
      "http://desk.example.com/users", // same host, other scheme: another origin
      "https://desk.example.com.evil.example/",
      "/users\n/x",
      "users/x",
      "",
      "/".padEnd(2100, "a"),
    ]) {
      expect(safeReturnPath(evil, PUBLIC), evil).toBe("/");
    }
    expect(safeReturnPath(undefined, PUBLIC)).toBe("/");
    expect(safeReturnPath(["/users"], PUBLIC)).toBe("/");
  });

  it("does not return to the sign-in pages themselves", () => {
    expect(safeReturnPath("/login?callbackUrl=%2Fusers", PUBLIC)).toBe("/");
    expect(safeReturnPath("/api/auth/signout", PUBLIC)).toBe("/");
    expect(safeReturnPath("/_next/static/x.js", PUBLIC)).toBe("/");
  });

  it("drops Next's _rsc marker of client navigations", () => {
    expect(safeReturnPath("/users?q=ada&_rsc=1x2y", PUBLIC)).toBe("/users?q=ada");
  });
});

describe("loginPathFor", () => {
  it("names the page in callbackUrl, except Overview", () => {
    expect(loginPathFor("/users/abc?x=1")).toBe("/login?callbackUrl=%2Fusers%2Fabc%3Fx%3D1");
    expect(loginPathFor("/")).toBe("/login");
    expect(loginPathFor(null)).toBe("/login");
    expect(loginPathFor("//evil.example")).toBe("/login");
    expect(loginPathFor("/users", "SessionEnded")).toBe("/login?error=SessionEnded&callbackUrl=%2Fusers");
  });
});
