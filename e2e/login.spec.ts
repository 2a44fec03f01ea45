/**
 * The sign-in form itself (the other specs sign in through the API), wrong passwords and the
 * account lockout in words, and signing out. Lockout tests use throwaway members created by the
 * admin, so the demo accounts the other specs use are never locked.
 */
import { type Browser, expect, test } from "@playwright/test";
import { auditEvents, authFile, createStaffViaUi, signedInContext, snap, unique } from "./fixtures";

async function throwaway(browser: Browser, role: "support" | "auditor" = "support") {
  const context = await browser.newContext({ storageState: authFile("admin") });
  const page = await context.newPage();
  const member = { email: `${unique("login")}@e2e.test`, role, password: "throwaway password 1" };
  await createStaffViaUi(page, member);
  await context.close();
  return member;
}

test.describe("the sign-in form", () => {
  test("signs a member in and shows their console", async ({ page, browser }) => {
    const member = await throwaway(browser, "auditor");
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
    await snap(page, "login");
    await page.getByLabel("Email").fill(member.email.toUpperCase());
    await page.getByLabel("Password").fill(member.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("staff-identity")).toContainText(member.email);
    await expect(page.getByTestId("staff-identity")).toContainText("Auditor");
  });

  test("says a wrong password in a sentence and records the failure", async ({ page, browser, baseURL }) => {
    const member = await throwaway(browser);
    await page.goto("/login");
    await page.getByLabel("Email").fill(member.email);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("The email or password is not right.");
    await expect(page).toHaveURL(/\/login$/);
    await snap(page, "login-wrong-password");
    const failures = await auditEvents(baseURL!, { action: "staff.sign_in_failed", actor: member.email });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ outcome: "failure", details: { email: member.email, reason: "invalid" } });
  });

  test("after five wrong passwords makes this network wait, says for how long, and sends Retry-After", async ({ page, browser, baseURL }) => {
    const member = await throwaway(browser);
    await page.goto("/login");
    const attempt = async (password: string) => {
      await page.getByLabel("Email").fill(member.email);
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
    };
    for (let i = 1; i <= 5; i++) {
      await attempt(`wrong password number ${i}`);
      await expect(page.getByRole("main").getByRole("alert")).toHaveText("The email or password is not right.");
      await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeEnabled();
    }
    // The sixth try is refused before the password is even checked: the right one fails too.
    const answer = page.waitForResponse((r) => r.url().includes("/api/auth/callback/credentials"));
    await attempt(member.password);
    const refused = await answer;
    expect(refused.status()).toBe(429);
    expect(Number(refused.headers()["retry-after"])).toBeGreaterThan(0);
    await expect(page.getByRole("main").getByRole("alert")).toHaveText(
      /^Too many failed sign-ins for this account from your network\. Try again in \d+ seconds; each further failure makes the wait longer\.$/,
    );
    await expect(page).toHaveURL(/\/login$/);
    await snap(page, "login-locked");
    const events = await auditEvents(baseURL!, { action: "staff.sign_in_failed", actor: member.email });
    expect(events.map((e) => e.outcome).sort()).toEqual(["denied", "failure", "failure", "failure", "failure", "failure"]);
    expect(await auditEvents(baseURL!, { action: "staff.signed_in", actor: member.email })).toEqual([]);
  });

  test("shows only its own sentences for ?error=, never the link's text", async ({ page }) => {
    await page.goto(`/login?error=${encodeURIComponent("Your account is locked. Call +1 555 0100 to unlock it.")}`);
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Sign-in failed. Try again.");
    await page.goto("/login?error=CsrfInvalid");
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("The sign-in form had expired or did not come from this console. Sign in again.");
  });

  test("asks for both fields when they are empty", async ({ page }) => {
    await page.goto("/login");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Enter your email and password.");
  });
});

test("signing out ends the session and records it", async ({ browser, baseURL }) => {
  // A throwaway auditor: signing out ends every session of the member (its session version moves),
  // and the other specs run on the demo auditor's saved session.
  const auditor = await throwaway(browser, "auditor");
  const context = await signedInContext(browser, baseURL!, auditor.email, auditor.password);
  const page = await context.newPage();
  await page.goto("/");
  const before = (await auditEvents(baseURL!, { action: "staff.signed_out", actor: auditor.email })).length;
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/audit");
  await expect(page).toHaveURL(/\/login\?callbackUrl=%2Faudit$/);
  await expect.poll(async () => (await auditEvents(baseURL!, { action: "staff.signed_out", actor: auditor.email })).length).toBe(before + 1);
  await context.close();
});
