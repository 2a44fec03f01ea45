import { describe, expect, it } from "vitest";
import { securityHeaders } from "@/server/security-headers";

const http = { publicUrl: "http://localhost:3000" };
const https = { publicUrl: "https://td.example.com" };

describe("security headers", () => {
  it("console pages: a nonce'd CSP that refuses framing, X-Frame-Options DENY, nosniff, no HSTS over http", () => {
    const { nonce, headers } = securityHeaders("/users", true, http);
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(headers["Content-Security-Policy"]).toContain(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`);
    expect(headers["Content-Security-Policy"]).toContain("frame-ancestors 'none'");
    expect(headers["Content-Security-Policy"]).not.toContain("unsafe-eval");
    expect(headers).toMatchObject({ "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin" });
    expect(headers["Strict-Transport-Security"]).toBeUndefined();
    expect(securityHeaders("/users", true, http).nonce).not.toBe(nonce);
  });

  it("pages whose URL carries a token send no Referer", () => {
    for (const path of ["/capture", "/mobile", "/h/abc123", "/h/"]) expect(securityHeaders(path, true, http).headers["Referrer-Policy"]).toBe("no-referrer");
    for (const path of ["/handoffs", "/captures", "/hx"]) expect(securityHeaders(path, true, http).headers["Referrer-Policy"]).toBe("same-origin");
  });

  it("HSTS and upgrade-insecure-requests only when PUBLIC_URL is https; the machine API allows nothing", () => {
    const page = securityHeaders("/", true, https).headers;
    expect(page["Strict-Transport-Security"]).toBe("max-age=63072000; includeSubDomains");
    expect(page["Content-Security-Policy"]).toContain("upgrade-insecure-requests");
    const api = securityHeaders("/v2/users", false, https);
    expect(api.nonce).toBeNull();
    expect(api.headers).toEqual({
      "X-Content-Type-Options": "nosniff",
      "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
      "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    });
  });

  it("the dev server's policy lets Next's dev runtime evaluate code", () => {
    expect(securityHeaders("/", true, { ...http, dev: true }).headers["Content-Security-Policy"]).toContain("'unsafe-eval'");
  });
});
