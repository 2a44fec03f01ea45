/** RFC 6749 error descriptions: what the client sent is never echoed with control bytes. */
import { describe, expect, it } from "vitest";
import { OAuthError, oauthDescription } from "@/lib/oauth/errors";

describe("OAuth error descriptions", () => {
  it("keep only the characters RFC 6749 §5.2 allows, replacing control bytes", () => {
    expect(oauthDescription('The grant type evil\r\nSet-Cookie: x=1\u0000\u001b[31m"\\ é is not supported.')).toBe(
      "The grant type evil??Set-Cookie: x=1??[31m'/ ? is not supported.",
    );
    expect(oauthDescription("refresh_token_reused: The refresh token was already used; the session has been ended.")).toBe(
      "refresh_token_reused: The refresh token was already used; the session has been ended.",
    );
  });

  it("are cleaned however the error is made, and rate_limited is a 429 with its retry time", () => {
    expect(new OAuthError("unsupported_grant_type", "The grant type a\u0007b is not supported.").description).toBe("The grant type a?b is not supported.");
    const limited = new OAuthError("rate_limited", "Too many failed token requests.", undefined, 30);
    expect(limited).toMatchObject({ status: 429, retryAfterSeconds: 30 });
  });
});
