/**
 * Issue 14, point 2: the state after a change is the state on screen, at once — not after a reload
 * or the next 15-second poll. Saving a role shows the new role; disabling a user empties the
 * sessions card (no "1 active" with a Revoke button).
 */
import { devices, expect, test } from "@playwright/test";
import { authFile, createKeyInConsole, createStaffViaUi, EXCHANGE, SIGN_IN_TOKEN_TYPE, takePhoto, unique } from "./fixtures";

test.describe("admin", () => {
  test.use({ storageState: authFile("admin") });

  test("after Save role the select shows the new role, without a reload", async ({ page }) => {
    const email = `${unique("role")}@e2e.test`;
    await createStaffViaUi(page, { email, role: "support", password: "a role change password" });
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    const row = page.getByTestId(`staff-row-${email}`);
    await row.locator('select[name="role"]').selectOption("auditor");
    await row.getByRole("button", { name: "Save role" }).click();
    await expect(row.getByRole("status")).toHaveText(`${email} is now auditor.`);
    await expect(row.locator('select[name="role"]')).toHaveValue("auditor");
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await page.reload();
    await expect(page.getByTestId(`staff-row-${email}`).locator('select[name="role"]')).toHaveValue("auditor");
  });
});

test.describe("support", () => {
  test.use({ storageState: authFile("support") });

  test("disabling a user empties the sessions card at once", async ({ page, request, browser }) => {
    const key = await createKeyInConsole(browser, unique("e2e live key"));
    const created = await request.post("/v2/user", { headers: { "X-Vital-API-Key": key }, data: { client_user_id: unique("live") } });
    const userId = ((await created.json()) as { user_id: string }).user_id;
    const minted = await request.post(`/v2/user/${userId}/sign_in_token`, { headers: { "X-Vital-API-Key": key }, data: {} });
    const { sign_in_token } = (await minted.json()) as { sign_in_token: string };
    const exchanged = await request.post("/oauth/token", {
      form: { grant_type: EXCHANGE, subject_token: sign_in_token, subject_token_type: SIGN_IN_TOKEN_TYPE },
    });
    expect(exchanged.status()).toBe(200);

    await page.goto(`/users/${userId}`);
    const sessions = page.getByTestId("user-sessions");
    await expect(sessions).toContainText("1 active session");
    await expect(sessions.getByRole("button", { name: /^Revoke/ })).toHaveCount(2); // the row's and "Revoke all sessions"

    await page.getByRole("button", { name: "Disable user" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Reason").fill("e2e: live state after disabling");
    await dialog.getByRole("button", { name: "Disable user" }).click();
    await expect(dialog).toBeHidden();
    // Well inside the card's 15-second poll: the change itself refreshed it.
    await expect(sessions).toContainText("0 active sessions, 1 ended", { timeout: 5_000 });
    await expect(sessions.getByRole("button", { name: /^Revoke/ })).toHaveCount(0, { timeout: 5_000 });
  });

  test("the handoffs list row says what the live panel above it says, without a reload", async ({ page, browser }) => {
    await page.goto("/handoffs");
    const form = page.getByRole("form", { name: "Issue IDV handoff" });
    await form.getByLabel("External user id", { exact: true }).fill(unique("live-handoff"));
    await form.getByLabel("Environment").selectOption("sandbox");
    await form.getByLabel("Workflow").selectOption({ label: "Full KYC: ID, selfie and details" });
    await form.getByLabel("Reason").fill("e2e: list follows the live panel");
    await form.getByRole("button", { name: "Issue handoff" }).click();
    const live = page.getByTestId("handoff-live");
    await expect(live.getByTestId("handoff-status")).toHaveText("created");
    const sessionId = (await live.getAttribute("data-session-id"))!;
    const mobileUrl = new URL(await live.getByTestId("handoff-url").inputValue()).searchParams.get("url")!;
    const row = page.locator(`[data-testid="handoff-row"][data-session-id="${sessionId}"]`);
    await expect(row.locator("[data-status]")).toHaveAttribute("data-status", "created");
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    // The person starts on their phone: the panel turns to "in progress", and so does the row.
    const phoneContext = await browser.newContext({ ...devices["Pixel 7"], storageState: { cookies: [], origins: [] } });
    const phone = await phoneContext.newPage();
    await phone.goto(mobileUrl);
    await takePhoto(phone, 7);
    await expect(phone.getByTestId("mobile-progress")).toHaveText("Step 2 of 3");
    await phoneContext.close();
    await expect(live.getByTestId("handoff-status")).toHaveText("in progress");
    await expect(row.locator("[data-status]")).toHaveAttribute("data-status", "in_progress");
    await expect(row).toContainText("in progress");
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
  });
});
