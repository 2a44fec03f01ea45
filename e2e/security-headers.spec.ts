/**
 * The security headers as Chromium gets them (server/security-headers.ts, applied by the front):
 * every console page runs under a nonce'd Content-Security-Policy with no violation and its scripts
 * still run, nobody can frame the console, and the pages whose URL carries a token send no Referer.
 */
import { expect, type Page, test } from "@playwright/test";
import { authFile } from "./fixtures";

declare global {
  interface Window {
    __cspViolations: string[];
  }
}

/** Records every CSP violation the page reports, from before its first script. */
async function watchCsp(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

const CONSOLE_PAGES = [
  "/",
  "/users",
  "/devices",
  "/inspector",
  "/handoffs",
  "/migrations",
  "/audit",
  "/staff",
  "/api-keys",
  "/instances",
  "/workflows",
  "/settings",
  "/security",
];

test.describe("signed in as admin", () => {
  test.use({ storageState: authFile("admin") });

  test("every console page: nonce'd CSP, no framing, nosniff, no violations, and its scripts run", async ({ page }) => {
    // Thirteen pages, each rendered per request: minutes on a busy machine.
    test.setTimeout(300_000);
    await watchCsp(page);
    const nonces = new Set<string>();
    for (const path of CONSOLE_PAGES) {
      const res = await page.goto(path);
      expect(res?.status(), path).toBe(200);
      const h = res!.headers();
      const csp = h["content-security-policy"]!;
      expect(csp, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
      expect(csp, path).toContain("frame-ancestors 'none'");
      nonces.add(/'nonce-([^']+)'/.exec(csp)![1]!);
      expect(h, path).toMatchObject({ "x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin" });
      expect(h["strict-transport-security"], "PUBLIC_URL is http here").toBeUndefined();
      // Hydrated: React attached its handlers (Next's inline bootstrap ran under the nonce).
      await expect(page.getByRole("button", { name: "Sign out" })).toBeEnabled();
      expect(await page.evaluate(() => window.__cspViolations), path).toEqual([]);
    }
    expect(nonces.size).toBe(CONSOLE_PAGES.length);
    // A client-side navigation (scripts at work) keeps working under the policy.
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Users" }).click();
    await expect(page).toHaveURL(/\/users$/);
    expect(await page.evaluate(() => window.__cspViolations)).toEqual([]);
  });
});

test("the sign-in form's script runs under the policy, and the console cannot be framed", async ({ page, baseURL }) => {
  await watchCsp(page);
  await page.goto("/login");
  await page.getByLabel("Email").fill("nobody@e2e.test");
  await page.getByLabel("Password").fill("not a password at all");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // Only the form's script answers in place; without it the browser would submit a GET to /login.
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("The email or password is not right.");
  expect(await page.evaluate(() => window.__cspViolations)).toEqual([]);

  // Another origin frames the sign-in page: Chromium refuses to render it.
  await page.goto("about:blank");
  await page.setContent(`<iframe id="f" src="${baseURL}/login" width="400" height="300"></iframe>`);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  await expect.poll(() => frame?.url()).not.toBe("about:blank");
  await expect
    .poll(async () =>
      frame
        ?.locator("text=Staff console")
        .count()
        .catch(() => 0),
    )
    .toBe(0);
  expect(frame?.url()).not.toBe(`${baseURL}/login`);
});

test("the public IDV pages send no Referer; the machine API allows nothing and is not sniffed", async ({ page, request }) => {
  await watchCsp(page);
  for (const path of ["/capture", "/mobile", "/h/not-a-real-code"]) {
    const res = await page.goto(path);
    const h = res!.headers();
    expect(h["referrer-policy"], path).toBe("no-referrer");
    expect(h["content-security-policy"], path).toContain("'strict-dynamic'");
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(await page.evaluate(() => window.__cspViolations), path).toEqual([]);
  }
  for (const path of ["/api/live", "/v2/users", "/.well-known/jwks.json"]) {
    const res = await request.get(path);
    expect(res.headers()["content-security-policy"], path).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers()["x-content-type-options"], path).toBe("nosniff");
  }
});
