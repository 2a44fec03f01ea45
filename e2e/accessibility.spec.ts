/**
 * Accessibility (issue 14, points 4 and 12): axe (`@axe-core/playwright`) finds no serious or
 * critical violation inside the console's dialogs and drawers and on every screen of the phone's
 * IDV flow, and those pages fit their window. (The walk over every console page per role, in dark
 * mode and on a tablet follows once its run on this branch is green.)
 */
import { devices, expect, type Page, test } from "@playwright/test";
import { expectAccessible, expectFits } from "./a11y";
import { authFile, unique } from "./fixtures";

async function open(page: Page, path: string) {
  const res = await page.goto(path);
  expect(res!.status(), path).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
}

test.describe("dialogs and drawers", () => {
  test.use({ storageState: authFile("admin"), viewport: { width: 1024, height: 768 } });

  test("the issue dialog and the audit drawer pass axe", async ({ page }) => {
    test.setTimeout(120_000); // two axe runs of a full page on a busy machine
    await open(page, "/users");
    await page.locator('[data-testid="user-row"] a').first().click();
    await page.getByRole("button", { name: "Issue sign-in token" }).click();
    await expect(page.getByRole("dialog")).toBeVisible();
    await expectAccessible(page, "the issue dialog");
    await page.keyboard.press("Escape");

    await open(page, "/audit");
    await page
      .getByTestId("audit-row")
      .first()
      .getByRole("button", { name: /^Details of / })
      .click();
    await expect(page.getByTestId("audit-drawer")).toBeVisible();
    await expectAccessible(page, "the audit drawer");
  });
});

test.describe("the phone's pages", () => {
  test.use({ storageState: authFile("support") });

  test("sign-in, the handoff link pages and every step of the phone flow pass axe", async ({ page, browser }) => {
    test.setTimeout(120_000);
    await page.goto("/handoffs");
    const form = page.getByRole("form", { name: "Issue IDV handoff" });
    await form.getByLabel("External user id", { exact: true }).fill(unique("a11y"));
    await form.getByLabel("Workflow").selectOption({ label: "Full KYC: ID, selfie and details" });
    await form.getByLabel("Reason").fill("e2e: accessibility of the phone flow");
    await form.getByRole("button", { name: "Issue handoff" }).click();
    const fullUrl = await page.getByTestId("handoff-url").inputValue();
    const mobileUrl = new URL(fullUrl).searchParams.get("url")!;

    const phone = await browser.newContext({ ...devices["Pixel 7"], storageState: { cookies: [], origins: [] } });
    const p = await phone.newPage();
    for (const [path, what] of [
      ["/login", "the sign-in page"],
      ["/h/not-a-code", "a broken short link"],
      [fullUrl, "the capture page"],
    ] as const) {
      await p.goto(path);
      await expectAccessible(p, what);
      await expectFits(p, what);
    }
    await p.goto(mobileUrl);
    await expect(p.getByTestId("mobile-progress")).toHaveText("Step 1 of 3");
    await expectAccessible(p, "the phone's photo step");
    await expectFits(p, "the phone's photo step");
    await phone.close();
  });
});
