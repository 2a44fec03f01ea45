/**
 * Issue 14, point 3: a link survives sign-in. A console page opened signed out sends the visitor to
 * /login with the page as `callbackUrl`; after the password (or SSO) they land on that page, with
 * its query. Only this console's own paths are followed: another origin lands on Overview.
 */
import { type Browser, expect, type Page, test } from "@playwright/test";
import { authFile, demo } from "./fixtures";

async function aUserPath(browser: Browser): Promise<string> {
  const context = await browser.newContext({ storageState: authFile("admin") });
  const page = await context.newPage();
  await page.goto("/users");
  const href = await page.locator('[data-testid="user-row"] a').first().getAttribute("href");
  await context.close();
  expect(href).toMatch(/^\/users\/[0-9a-f-]{36}$/);
  return href!;
}

async function signInWithPassword(page: Page) {
  await page.getByLabel("Email").fill(demo("support").email);
  await page.getByLabel("Password").fill(demo("support").password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("a user page opened signed out opens after the password sign-in", async ({ page, browser, baseURL }) => {
  const target = await aUserPath(browser);
  await page.goto(`${target}?from=ticket-77`);
  await expect(page).toHaveURL(`${baseURL}/login?callbackUrl=${encodeURIComponent(`${target}?from=ticket-77`)}`);
  await signInWithPassword(page);
  await expect(page).toHaveURL(`${baseURL}${target}?from=ticket-77`);
  await expect(page.getByRole("link", { name: "← Users" })).toBeVisible();
});

test("another origin, or a scheme-relative path, is not followed after sign-in", async ({ page, baseURL }) => {
  for (const evil of ["https://evil.example/users", "//evil.example/users", "/\\evil.example"]) {
    await page.context().clearCookies();
    await page.goto(`/login?callbackUrl=${encodeURIComponent(evil)}`);
    await signInWithPassword(page);
    await expect(page, evil).toHaveURL(`${baseURL}/`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Hello, ${demo("support").name}`);
  }
});

test("single sign-on keeps the target too", async ({ page, baseURL }) => {
  await page.goto("/audit?action=user.created");
  await expect(page).toHaveURL(/\/login\?callbackUrl=%2Faudit%3Faction%3Duser\.created$/);
  await page.getByRole("button", { name: "Sign in with Test IdP" }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.locator('input[name="login"]').fill("sso-admin");
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  // The IdP asks for consent only the first time this login uses the client.
  if (await consent.isVisible({ timeout: 5_000 }).catch(() => false)) await consent.click();
  await expect(page).toHaveURL(`${baseURL}/audit?action=user.created`);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
});
