/**
 * Single sign-on through a real OpenID Connect provider (e2e/oidc-provider.mjs, started by the
 * Playwright config): its development login and consent pages, PKCE, and tokendesk's role mapping
 * OIDC_ROLE_MAP=td-admins=admin,td-support=support.
 */
import { expect, type Page, test } from "@playwright/test";
import { auditEvents, snap } from "./fixtures";

async function signInThroughIdp(page: Page, login: string) {
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in with Test IdP" }).click();
  // oidc-provider's development login page: any login name, any password.
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click(); // consent
}

test("an IdP admin lands in the console as admin, provisioned on first sign-in", async ({ page, baseURL }) => {
  await signInThroughIdp(page, "sso-admin");
  await expect(page).toHaveURL(`${baseURL}/`);
  const identity = page.getByTestId("staff-identity");
  await expect(identity).toContainText("Sso Admin");
  await expect(identity).toContainText("sso-admin@idp.test");
  await expect(identity).toContainText("Admin");
  await expect(page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Staff" })).toBeVisible();
  await snap(page, "oidc-admin");

  await page.goto("/staff");
  const row = page.getByTestId("staff-row-sso-admin@idp.test");
  await expect(row).toContainText("SSO");
  const signIns = await auditEvents(baseURL!, { action: "staff.signed_in", actor: "sso-admin@idp.test" });
  expect(signIns[0]).toMatchObject({ details: { method: "oidc" } });
});

test("an IdP support member gets the support role", async ({ page }) => {
  await signInThroughIdp(page, "sso-support");
  const identity = page.getByTestId("staff-identity");
  await expect(identity).toContainText("sso-support@idp.test");
  await expect(identity).toContainText("Support");
  const res = await page.goto("/staff");
  expect(res!.status()).toBe(403);
});

test("an IdP user without a mapped group is refused with a sentence and not created", async ({ page, baseURL }) => {
  await signInThroughIdp(page, "sso-nobody");
  await expect(page).toHaveURL(/\/login\?error=/);
  await expect(page.getByRole("main").getByRole("alert")).toHaveText(
    "Your single sign-on account is not in a group that tokendesk gives a role to. Ask an admin.",
  );
  await snap(page, "oidc-refused");
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
  const refused = await auditEvents(baseURL!, { action: "staff.sign_in_failed", actor: "sso-nobody@idp.test" });
  expect(refused[0]).toMatchObject({ outcome: "denied", details: { method: "oidc", reason: "no_role" } });
  expect(
    await auditEvents(baseURL!, { action: "staff.created", targetType: "staff" }).then((e) => e.filter((x) => x.details.email === "sso-nobody@idp.test")),
  ).toEqual([]);
});
