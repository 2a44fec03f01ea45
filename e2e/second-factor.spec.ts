/**
 * Staff second factors in the browser: enrol an authenticator app on the Security page (the code
 * computed here with otplib), sign in with it, a recovery code works once, a passkey through
 * Chromium's virtual authenticator (CDP WebAuthn), a half-signed-in browser reaches nothing, and
 * admins are warned about the demo team. Throwaway members only: the demo accounts stay as they are.
 */
import { type Browser, expect, type Page, request as playwrightRequest, test } from "@playwright/test";
import { generate } from "otplib";
import { auditEvents, authFile, createStaffViaUi, signedInContext, unique } from "./fixtures";

const PASSWORD = "second factor password";

// Each test signs in several times (argon2id each) and creates its own member: more than the default minute on a busy machine.
test.describe.configure({ timeout: 300_000 });

async function throwaway(browser: Browser, role: "support" | "admin" = "support") {
  const context = await browser.newContext({ storageState: authFile("admin") });
  const page = await context.newPage();
  const member = { email: `${unique("mfa")}@e2e.test`, role, password: PASSWORD };
  const id = await createStaffViaUi(page, member);
  await context.close();
  return { ...member, id };
}

async function passwordStep(page: Page, email: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("form", { name: "Second step" })).toBeVisible();
}

/** The code of the next 30-second step: the current one was spent on enrolment, and is accepted once. */
const nextCode = (secret: string) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });

test("enrol an authenticator app, sign in with it, and use a recovery code once", async ({ page, browser, baseURL }) => {
  const member = await throwaway(browser);
  const context = await signedInContext(browser, baseURL!, member.email, PASSWORD);
  const security = await context.newPage();
  await security.goto("/security");
  await expect(security.getByRole("heading", { name: "Security", level: 1 })).toBeVisible();
  await security.getByRole("button", { name: "Set up an authenticator app" }).click();
  const secret = (await security.getByTestId("totp-secret").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await security.getByLabel("Code from the app").fill("000000");
  await security.getByRole("button", { name: "Turn on" }).click();
  await expect(security.getByRole("main").getByRole("alert")).toContainText("That code is not right");
  await security.getByLabel("Code from the app").fill(await generate({ secret }));
  await security.getByRole("button", { name: "Turn on" }).click();
  await expect(security.getByTestId("recovery-codes").locator("li")).toHaveCount(10);
  const codes = (await security.getByTestId("recovery-codes").locator("li").allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  await expect(security.getByText("10 left")).toBeVisible();
  await context.close();

  // Password alone now yields only the second step: that browser has no session and reaches nothing.
  await passwordStep(page, member.email);
  const session = await (await page.request.get("/api/auth/session")).json();
  expect(session).toEqual({});
  const users = await page.request.get("/users", { maxRedirects: 0 });
  expect(users.status()).toBe(307);
  expect(users.headers().location).toMatch(/\/login/);
  await page.getByLabel("Code from your authenticator app").fill("123456");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("main").getByRole("alert")).toContainText("That code is not right. 4 tries left.");
  await page.getByLabel("Code from your authenticator app").fill(await nextCode(secret));
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("staff-identity")).toContainText(member.email);

  // A recovery code signs in once.
  await page.context().clearCookies();
  await passwordStep(page, member.email);
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill(codes[0]!);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.context().clearCookies();
  await passwordStep(page, member.email);
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill(codes[0]!);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("main").getByRole("alert")).toContainText("That recovery code is not valid.");
  await expect(page).toHaveURL(/\/login/);

  const signedIn = await auditEvents(baseURL!, { action: "staff.signed_in", targetType: "staff", targetId: member.id });
  expect(signedIn.map((e) => e.details.secondFactor).sort()).toEqual(["recovery_code", "totp"]);
  expect(JSON.stringify(signedIn)).not.toContain(codes[0]);
});

test("the sign-in API without the second step gives no session", async ({ browser, baseURL }) => {
  const member = await throwaway(browser);
  const context = await signedInContext(browser, baseURL!, member.email, PASSWORD);
  const page = await context.newPage();
  await page.goto("/security");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  await page.getByLabel("Code from the app").fill(await generate({ secret }));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByTestId("recovery-codes")).toBeVisible();
  await context.close();

  const api = await playwrightRequest.newContext({ baseURL });
  const { csrfToken } = (await (await api.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const res = await api.post("/api/auth/callback/credentials", {
    form: { csrfToken, email: member.email, password: PASSWORD, callbackUrl: "/", json: "true" },
    maxRedirects: 0,
  });
  const landed = ((await res.json()) as { url: string }).url;
  expect(landed).toContain("error=second-factor");
  expect(await (await api.get("/api/auth/session")).json()).toEqual({});
  expect((await api.get("/api/console/users/00000000-0000-7000-8000-000000000000/sessions")).status()).toBe(401);
  // A made-up ticket is refused in words.
  const forged = await api.post("/api/auth/callback/credentials", {
    form: { csrfToken, ticket: "x".repeat(43), code: await generate({ secret }), callbackUrl: "/", json: "true" },
    maxRedirects: 0,
  });
  expect(decodeURIComponent(((await forged.json()) as { url: string }).url)).toContain("took too long or had too many tries");
  expect(await (await api.get("/api/auth/session")).json()).toEqual({});
  await api.dispose();
});

test("a passkey through Chromium's virtual authenticator", async ({ page, browser, baseURL }) => {
  const member = await throwaway(browser);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await page.goto("/login");
  await page.getByLabel("Email").fill(member.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/security");
  await page.getByLabel("Passkey name").fill("Virtual key");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByRole("list", { name: "Your passkeys" })).toContainText("Virtual key");
  await expect(page.getByTestId("recovery-codes").locator("li")).toHaveCount(10);

  await page.context().clearCookies();
  await passwordStep(page, member.email);
  await page.getByRole("button", { name: "Use your passkey" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("staff-identity")).toContainText(member.email);

  const added = await auditEvents(baseURL!, { action: "staff.second_factor_added", targetType: "staff", targetId: member.id });
  expect(added[0]).toMatchObject({ details: { method: "passkey", name: "Virtual key" } });
  const signedIn = await auditEvents(baseURL!, { action: "staff.signed_in", targetType: "staff", targetId: member.id });
  expect(signedIn.map((e) => e.details.secondFactor)).toContain("passkey");
});

test.describe("as the demo admin", () => {
  test.use({ storageState: authFile("admin") });

  test("admins are warned about the demo team, and a demo account cannot remove it", async ({ page }) => {
    await page.goto("/");
    const warning = page.getByRole("status").filter({ hasText: "The demo team can sign in" });
    await expect(warning).toContainText("4 demo accounts");
    await warning.getByRole("button", { name: "Remove the demo team" }).click();
    await expect(warning.getByRole("alert")).toHaveText("You are signed in with a demo account: sign in with your own admin account to remove the demo team.");
    await page.goto("/staff");
    await expect(page.getByTestId("staff-row-admin@demo.tokendesk.dev")).toContainText("Demo");
  });

  test("the policy switches save and are audited", async ({ page, baseURL }) => {
    await page.goto("/settings");
    const form = page.getByRole("form", { name: "Sign-in security" });
    await expect(form.getByLabel(/Require a second factor/)).not.toBeChecked();
    // Saving unchanged switches changes nothing and records nothing.
    await form.getByRole("button", { name: "Save sign-in security" }).click();
    await expect(form.getByRole("status")).toContainText("a second factor is optional");
    expect(await auditEvents(baseURL!, { action: "settings.changed", targetType: "security" })).toHaveLength(0);
  });
});

test("support without a second factor sees no demo warning", async ({ browser }) => {
  const context = await browser.newContext({ storageState: authFile("support") });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page.getByTestId("staff-identity")).toBeVisible();
  await expect(page.getByText("The demo team can sign in")).toHaveCount(0);
  await context.close();
});
