/** The sign-in page shows only its own sentences, whatever /login?error= says. */
import { describe, expect, it } from "vitest";
import { describeSignInError, rateLimitedCode, retryAfterOfCode } from "@/lib/staff/sign-in-errors";

describe("sign-in error codes", () => {
  it("map known codes to sentences and anything else to nothing", () => {
    expect(describeSignInError("CredentialsSignin")).toBe("The email or password is not right.");
    expect(describeSignInError("SessionEnded")).toMatch(/^Your session has ended/);
    for (const crafted of ["Your account is locked. Call +1 555 0100 to unlock it.", "<script>alert(1)</script>", "constructor", "__proto__", "toString"]) {
      expect(describeSignInError(crafted)).toBeNull();
    }
  });

  it("carry a rate limit's wait as a number only, capped at the longest real wait", () => {
    const code = rateLimitedCode("pair", 42.2);
    expect(code).toBe("RateLimited.pair.43");
    expect(describeSignInError(code)).toBe(
      "Too many failed sign-ins for this account from your network. Try again in 43 seconds; each further failure makes the wait longer.",
    );
    expect(retryAfterOfCode(code)).toBe(43);
    expect(describeSignInError("RateLimited.ip.9999")).toBe("Too many failed sign-ins from your network. Try again in 15 minutes.");
    expect(describeSignInError("RateLimited.ip.60 and more words")).toBeNull();
    expect(describeSignInError("RateLimited.everyone.60")).toBeNull();
    expect(retryAfterOfCode("CredentialsSignin")).toBeNull();
  });
});
