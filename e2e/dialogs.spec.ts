/**
 * Issue 14, point 4: dialogs and the keyboard. Focus moves into every dialog, stays there while it
 * is open and goes back to what opened it (or, when that is gone, to a control near it — never to
 * the page's top); a shown-once secret (sign-in token, API key) asks before Escape or a click
 * outside throws it away; `/` typed into the focused search box is a slash.
 */
import { expect, type Page, test } from "@playwright/test";
import { authFile, unique } from "./fixtures";

/** Where focus is: inside the open dialog, and described for the failure message. */
async function focusInfo(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      inDialog: !!el?.closest('[role="dialog"]'),
      onBody: !el || el === document.body,
      inMain: !!el?.closest("main"),
      what: el ? `${el.tagName} ${el.getAttribute("aria-label") ?? el.textContent?.trim().slice(0, 40) ?? ""}` : "none",
    };
  });
}

/** An active demo user's page (sandbox, "test_…"): other specs disable the users they create. */
async function firstUserPage(page: Page) {
  await page.goto("/users?status=active&q=test_");
  await page.locator('[data-testid="user-row"] a').first().click();
  await expect(page.getByRole("button", { name: "Issue sign-in token" })).toBeVisible();
}

test.describe("as support", () => {
  test.use({ storageState: authFile("support") });

  test("a sign-in token issued by keyboard keeps focus in its dialog, asks before it is dismissed, and focus returns to the trigger", async ({ page }) => {
    await firstUserPage(page);
    const trigger = page.getByRole("button", { name: "Issue sign-in token" });
    await trigger.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Reason")).toBeFocused();
    await page.keyboard.type("e2e: keyboard issue");
    // Reason → Valid for → Cancel → Issue token.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await expect(dialog.getByRole("button", { name: "Issue token" })).toBeFocused();
    await page.keyboard.press("Enter");

    // The token view: focus is on the token, inside the dialog, not behind the overlay.
    const value = dialog.getByTestId("sign-in-token-value");
    await expect(value).toBeVisible();
    await expect(value).toBeFocused();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press("Tab");
      const f = await focusInfo(page);
      expect(f.inDialog, `Tab ${i + 1} reached ${f.what}`).toBe(true);
    }

    // Escape does not throw the token away without a word.
    await page.keyboard.press("Escape");
    const guard = dialog.getByTestId("close-guard");
    await expect(guard).toBeVisible();
    await expect(guard).toContainText("Close without the token?");
    await expect(dialog.getByRole("button", { name: "Keep it open" })).toBeFocused();
    await page.keyboard.press("Escape"); // still asking, still open
    await expect(dialog).toBeVisible();
    await page.keyboard.press("Enter"); // Keep it open
    await expect(guard).toBeHidden();
    await expect(value).toBeVisible();
    expect((await focusInfo(page)).inDialog).toBe(true);

    // Neither does a click outside.
    await page.mouse.click(5, 5);
    await expect(guard).toBeVisible();
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Close, I don't need it" }).click();
    await expect(dialog).toBeHidden();
    await expect(trigger).toBeFocused();

    // The token issued above is in the pending list; revoking it takes its row (the trigger) away,
    // and focus lands on the page, not on <body>.
    const row = page.getByTestId("pending-token-row").filter({ hasText: "e2e: keyboard issue" });
    await expect(row).toHaveCount(1);
    await row.getByRole("button", { name: /^Revoke the sign-in token issued / }).click();
    const confirm = page.getByRole("dialog", { name: "Revoke this sign-in token?" });
    await expect(confirm.getByLabel("Reason")).toBeFocused();
    await page.keyboard.type("e2e: focus after the row leaves");
    await confirm.getByRole("button", { name: "Revoke token" }).click();
    await expect(confirm).toBeHidden();
    await expect(row).toHaveCount(0);
    await expect(async () => {
      const f = await focusInfo(page);
      expect(f.onBody, `focus is on ${f.what}`).toBe(false);
      expect(f.inMain, `focus is on ${f.what}`).toBe(true);
    }).toPass({ timeout: 5000 });
  });

  test("Done closes a token's dialog without asking; a reason dialog closes on Escape; focus goes back to each trigger", async ({ page }) => {
    await firstUserPage(page);
    const trigger = page.getByRole("button", { name: "Issue sign-in token" });
    await trigger.click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Reason").fill("e2e: revoked before use");
    await dialog.getByRole("button", { name: "Issue token" }).click();
    await expect(dialog.getByTestId("sign-in-token-value")).toBeVisible();
    await dialog.getByRole("button", { name: "Done" }).click(); // an explicit Done closes without asking
    await expect(dialog).toBeHidden();
    await expect(trigger).toBeFocused();

    // A reason dialog holds nothing shown once: Escape closes it at once, focus back on its trigger.
    const row = page.getByTestId("pending-token-row").filter({ hasText: "e2e: revoked before use" });
    const revoke = row.getByRole("button", { name: /^Revoke the sign-in token issued / });
    await revoke.click();
    const confirm = page.getByRole("dialog", { name: "Revoke this sign-in token?" });
    await expect(confirm.getByLabel("Reason")).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(confirm).toBeHidden();
    await expect(revoke).toBeFocused();
  });
});

test.describe("as admin", () => {
  test.use({ storageState: authFile("admin") });

  test("a new API key asks before Escape throws it away; its explicit button closes and focus returns", async ({ page }) => {
    await page.goto("/api-keys");
    const trigger = page.getByRole("button", { name: "Create API key" });
    await trigger.click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByLabel("Name")).toBeFocused();
    await page.keyboard.type(unique("e2e dialog key"));
    await dialog.getByLabel("users:read").check();
    await dialog.getByRole("button", { name: "Create key" }).click();
    const secret = dialog.getByTestId("api-key-secret");
    await expect(secret).toBeVisible();
    await expect(secret).toBeFocused();

    await page.keyboard.press("Escape");
    await expect(dialog.getByTestId("close-guard")).toContainText("Close without the key?");
    await dialog.getByRole("button", { name: "Keep it open" }).click();
    await expect(dialog.getByTestId("close-guard")).toBeHidden();
    await expect(secret).toBeVisible();
    await page.mouse.click(5, 5);
    await expect(dialog.getByTestId("close-guard")).toBeVisible();
    await dialog.getByRole("button", { name: "Keep it open" }).click();

    await dialog.getByRole("button", { name: "I have stored the key" }).click();
    await expect(dialog).toBeHidden();
    await expect(trigger).toBeFocused();
  });

  test("`/` typed in the user search box is a slash; elsewhere it jumps to the box", async ({ page }) => {
    await page.goto("/users");
    const box = page.getByLabel("Search", { exact: true });
    await box.click();
    await page.keyboard.type("a/b");
    await expect(box).toHaveValue("a/b");
    await page.getByRole("heading", { level: 1 }).click();
    await expect(box).not.toBeFocused();
    await page.keyboard.press("/");
    await expect(box).toBeFocused();
    await expect(box).toHaveValue("a/b");
    await page.keyboard.press("End");
    await page.keyboard.type("/c");
    await expect(box).toHaveValue("a/b/c");
  });
});
