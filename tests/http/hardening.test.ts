/**
 * Issue 12's hardening on the wire, against the production server on PostgreSQL: failure limits on
 * the token service answered 429 with Retry-After in each family's shape (successes untouched),
 * staff sign-in limits and sign-out, the sign-in page's error codes, bearer challenges, RFC 6749
 * 405s and descriptions, the metadata's introspection method, and the session's absolute lifetime.
 * Each test comes from its own made-up address (X-Forwarded-For: the server trusts it), so limits
 * never cross tests.
 */
import { randomInt } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { sdkSessions, staff } from "@/db/schema";
import { API_KEY_FAILURE_LIMIT } from "@/lib/api-keys";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { GRANT_FAILURE_LIMIT_PER_ADDRESS } from "@/lib/oauth/grant-limits";
import { createStaff } from "@/lib/staff/staff";
import {
  baseUrl,
  call,
  createUserOver,
  exchangeOver,
  form,
  issueOver,
  mintKey,
  openTestDb,
  SIGN_IN_TOKEN_TYPE,
  TOKEN_EXCHANGE,
  uniq,
} from "../helpers/machine-api";

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDb();
});
afterAll(async () => {
  await handle.close();
});

const address = () => `172.${randomInt(16, 32)}.${randomInt(256)}.${randomInt(1, 255)}`;

describe("failure limits of the token service", () => {
  it("300 bad API keys from one address: 401s, then 429 {error:{code:rate_limited}} with Retry-After; a good key still passes", async () => {
    const { key } = await mintKey(handle);
    const from = { "X-Forwarded-For": address() };
    const answers = [];
    for (let i = 0; i < 300; i++) answers.push(await call("/v2/users", { key: `sk_us_${uniq("bogus")}`, headers: from }));
    expect(answers.slice(0, API_KEY_FAILURE_LIMIT.max).every((a) => a.status === 401)).toBe(true);
    const limited = answers.slice(API_KEY_FAILURE_LIMIT.max);
    expect(limited.every((a) => a.status === 429)).toBe(true);
    expect(limited[0]!.body).toEqual({
      error: { code: "rate_limited", message: expect.stringMatching(/^Too many requests with a missing, unknown or revoked API key/) },
    });
    const wait = Number(limited[0]!.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(API_KEY_FAILURE_LIMIT.windowSeconds);
    // A busy backend's good key from the same address is not throttled by a limit meant for failures.
    for (let i = 0; i < 20; i++) expect((await call("/v2/users?limit=1", { key, headers: from })).status).toBe(200);
  });

  it("300 bad refresh tokens and bad exchanges from one address: RFC 6749 429 rate_limited, no-store, Retry-After; a good refresh passes", async () => {
    const { key } = await mintKey(handle);
    const user = await createUserOver(key);
    const good = (await exchangeOver(await issueOver(key, user.user_id))).body;
    const from = { "X-Forwarded-For": address() };
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof form>> | null = null;
    for (let i = 0; i < 150; i++) {
      last = await form("/oauth/token", { grant_type: "refresh_token", refresh_token: `rt_${uniq("made-up")}` }, from);
      statuses.push(last.status);
      last = await form("/oauth/token", { grant_type: TOKEN_EXCHANGE, subject_token: `sit_${uniq("x")}`, subject_token_type: SIGN_IN_TOKEN_TYPE }, from);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, GRANT_FAILURE_LIMIT_PER_ADDRESS.max).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(GRANT_FAILURE_LIMIT_PER_ADDRESS.max).every((s) => s === 429)).toBe(true);
    expect(last!.body).toEqual({ error: "rate_limited", error_description: expect.stringMatching(/^Too many failed token requests from this address/) });
    expect(last!.headers.get("cache-control")).toBe("no-store");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    const refreshed = await form("/oauth/token", { grant_type: "refresh_token", refresh_token: good.refresh_token }, from);
    expect(refreshed.status).toBe(200);
  });
});

describe("the bearer and OAuth wire", () => {
  it("a refused bearer token carries WWW-Authenticate: Bearer error=invalid_token", async () => {
    const { key } = await mintKey(handle);
    const user = await createUserOver(key);
    const res = await call(`/v2/user/${user.user_id}`, { bearer: "eyJhbGciOiJFUzI1NiJ9.e30.AAAA" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  });

  it("answers a wrong method on /oauth/* in RFC 6749 JSON with no-store", async () => {
    for (const path of ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]) {
      const res = await call(path, { method: "GET" });
      expect(res.status).toBe(405);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.body).toMatchObject({ error: "invalid_request", error_description: expect.any(String) });
    }
  });

  it("never echoes control bytes in error_description", async () => {
    // (A NUL is refused earlier, as text no parameter may hold: the bad-input matrix covers it.)
    const res = await form("/oauth/token", { grant_type: "evil\r\nX-Injected: 1\u001b[2J\u007f" });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("unsupported_grant_type");
    expect(res.body.error_description).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(res.body.error_description).toContain("evil??X-Injected: 1?[2J?");
  });

  it("says in its metadata how introspection authenticates, and refuses it without a key", async () => {
    const meta = await call("/.well-known/oauth-authorization-server");
    expect(meta.body.introspection_endpoint_auth_methods_supported).toEqual(["tokendesk_api_key"]);
    expect(meta.body.token_endpoint_auth_signing_alg_values_supported).toBeUndefined();
    const anonymous = await form("/oauth/introspect", { token: "anything" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe("invalid_client");
  });

  it("refuses an access token on tokendesk's API once its session passed its absolute lifetime", async () => {
    const { key } = await mintKey(handle);
    const user = await createUserOver(key);
    const tokens = (await exchangeOver(await issueOver(key, user.user_id))).body;
    expect((await call(`/v2/user/${user.user_id}`, { bearer: tokens.access_token })).status).toBe(200);
    // The session reaches its absolute end (as if a year had passed); the JWT itself is still valid.
    await handle.db.execute(sql`update sdk_sessions set expires_at = now() - interval '1 second' where user_id = ${user.user_id}::uuid`);
    const refused = await call(`/v2/user/${user.user_id}`, { bearer: tokens.access_token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/^session_expired:/);
    const [s] = await handle.db.select().from(sdkSessions).where(eq(sdkSessions.userId, user.user_id));
    expect(s!.revokedAt).toBeNull();
  });
});

/** A cookie jar over fetch, enough for next-auth's csrf, callback and sign-out round trips. */
class Browser {
  private cookies = new Map<string, string>();
  constructor(readonly headers: Record<string, string> = {}) {}
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
  set(name: string, value: string) {
    this.cookies.set(name, value);
  }
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${baseUrl()}${path}`, {
      ...init,
      redirect: "manual",
      headers: { ...this.headers, ...(init.headers as Record<string, string>), Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const i = pair!.indexOf("=");
      const value = pair!.slice(i + 1);
      if (value === "" || /max-age=0/i.test(line)) this.cookies.delete(pair!.slice(0, i));
      else this.cookies.set(pair!.slice(0, i), value);
    }
    return res;
  }
  async csrf(): Promise<string> {
    return ((await (await this.fetch("/api/auth/csrf")).json()) as { csrfToken: string }).csrfToken;
  }
  async signIn(email: string, password: string): Promise<Response> {
    const csrfToken = await this.csrf();
    return this.fetch("/api/auth/callback/credentials", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken, email, password, callbackUrl: "/", json: "true" }).toString(),
    });
  }
}

const SESSION_COOKIE = "next-auth.session-token";

describe("staff sign-in and sign-out", () => {
  it("sign-out ends the session: the old cookie opens the console before, and is refused after", async () => {
    const email = `${uniq("signout")}@example.test`;
    await createStaff(handle.db, systemActor("http test"), { email, role: "admin", password: "a long enough password" }, NO_REQUEST);
    const browser = new Browser({ "X-Forwarded-For": address() });
    expect((await browser.signIn(email, "a long enough password")).status).toBe(200);
    const cookie = browser.cookie(SESSION_COOKIE)!;
    expect(cookie).toBeTruthy();
    expect((await browser.fetch("/audit")).status).toBe(200);

    const csrfToken = await browser.csrf();
    const out = await browser.fetch("/api/auth/signout", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken, callbackUrl: "/login", json: "true" }).toString(),
    });
    expect(out.status).toBe(200);
    // Someone who kept a copy of the cookie.
    const copy = new Browser();
    copy.set(SESSION_COOKIE, cookie);
    const after = await copy.fetch("/audit");
    expect(after.status).toBe(307);
    expect(after.headers.get("location")).toMatch(/\/login\?error=SessionEnded(&callbackUrl=[^&]+)?$/); // the page asked for comes back after sign-in
    const [row] = await handle.db.select().from(staff).where(eq(staff.email, email));
    expect(row!.sessionVersion).toBe(2);
  });

  it("a rate-limited sign-in answers 429 with Retry-After, and the page says in words how long to wait", async () => {
    const email = `${uniq("limited")}@example.test`;
    await createStaff(handle.db, systemActor("http test"), { email, role: "support", password: "a long enough password" }, NO_REQUEST);
    const browser = new Browser({ "X-Forwarded-For": address() });
    for (let i = 0; i < 5; i++) expect((await browser.signIn(email, `wrong password ${i}`)).status).toBe(401);
    const refused = await browser.signIn(email, "a long enough password");
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(30);
    const { url } = (await refused.json()) as { url: string };
    const code = new URL(url).searchParams.get("error")!;
    expect(code).toMatch(/^RateLimited\.pair\.\d+$/);
    const page = await (await fetch(`${baseUrl()}/login?error=${encodeURIComponent(code)}`)).text();
    expect(page).toMatch(
      /Too many failed sign-ins for this account from your network\. Try again in \d+ seconds?; each further failure makes the wait longer\./,
    );
  });

  it("the sign-in page shows only its own sentences for ?error=", async () => {
    const crafted = "Your account is locked. Call +1 555 0100 to unlock it.";
    const page = await (await fetch(`${baseUrl()}/login?error=${encodeURIComponent(crafted)}`)).text();
    expect(page).not.toContain("555 0100");
    expect(page).toContain("Sign-in failed. Try again.");
  });
});
