/**
 * Issue 14, point 8: an overview worth opening, per role. Support sees what it issued lately and its
 * state, the handoffs in progress and a quick search, and nothing about the database; an auditor
 * (manager) sees activity per day as real charts (7/30 days), the migration's progress and reuse;
 * an admin also sees keys by last use and the deployment's health.
 */
import { expect, test } from "@playwright/test";
import { authFile } from "./fixtures";

test.describe("support", () => {
  test.use({ storageState: authFile("support") });

  test("sees what it issued and its state, open handoffs and a quick search; no database figures", async ({ page }) => {
    // Issue a sign-in token to an active demo user, as support does (other specs disable the users they make).
    await page.goto("/users?status=active&q=test_");
    const first = page.locator('[data-testid="user-row"] a').first();
    const href = (await first.getAttribute("href"))!;
    await first.click();
    await page.getByRole("button", { name: "Issue sign-in token" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Reason").fill("e2e: the overview lists what I issued");
    await dialog.getByRole("button", { name: "Issue token" }).click();
    await expect(dialog.getByTestId("sign-in-token-value")).not.toHaveValue("");

    await page.goto("/");
    const issued = page.getByTestId("issued-by-me");
    const row = issued.getByTestId("issued-row").first();
    await expect(row).toHaveAttribute("data-kind", "sign_in_token");
    await expect(row.getByRole("link")).toHaveAttribute("href", href);
    await expect(row.locator("[data-state]")).toHaveText("waiting");
    await expect(page.getByTestId("handoffs-in-progress")).toBeVisible();

    // The quick search goes to the users list with the query.
    const search = page.getByRole("search", { name: "Find a user" });
    await search.getByLabel("Find a user").fill("demo");
    await search.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/\/users\?q=demo/);

    await page.goto("/");
    await expect(page.getByTestId("activity")).toHaveCount(0);
    await expect(page.getByTestId("instance-health")).toHaveCount(0);
    await expect(page.locator("main")).not.toContainText("PGlite");
    await expect(page.locator("main")).not.toContainText("schema");
  });
});

test.describe("auditor", () => {
  test.use({ storageState: authFile("auditor") });

  test("sees activity per day as charts with axes, 7 or 30 days, the migration and reuse; issues nothing", async ({ page }) => {
    await page.goto("/");
    const activity = page.getByTestId("activity");
    await expect(activity.getByRole("heading", { name: "Activity, last 7 days" })).toBeVisible();
    for (const id of ["total-signIns", "total-refreshes", "total-tokensIssued", "total-handoffs", "total-failures", "total-reuse"]) {
      await expect(activity.getByTestId(id)).toHaveText(/^\d[\d,]*$/);
    }
    const chart = activity.getByTestId("chart-sessions");
    // recharts draws axes with tick labels; the accessible table carries the values.
    await expect(chart.locator(".recharts-xAxis-tick-labels text").first()).toHaveText(/^\d\d-\d\d$/);
    await expect(chart.locator(".recharts-yAxis-tick-labels text").first()).toHaveText(/^\d+$/);
    await expect(chart.locator("table tbody tr")).toHaveCount(7);
    await expect(page.getByTestId("migration-progress")).toBeVisible();
    await expect(page.getByTestId("issued-by-me")).toHaveCount(0);
    await expect(page.getByTestId("keys-by-use")).toHaveCount(0);

    await activity.getByRole("link", { name: "30 days" }).click();
    await expect(page).toHaveURL(/\?days=30$/);
    await expect(page.getByTestId("activity").getByRole("heading", { name: "Activity, last 30 days" })).toBeVisible();
    await expect(page.getByTestId("chart-sessions").locator("table tbody tr")).toHaveCount(30);
  });
});

test.describe("admin", () => {
  test.use({ storageState: authFile("admin") });

  test("also sees keys by last use and the deployment's seals and database", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByTestId("activity")).toBeVisible();
    await expect(page.getByTestId("keys-by-use")).toBeVisible();
    const health = page.getByTestId("instance-health");
    await expect(health.getByTestId("seal-status")).toHaveText(/Seal #\d+|No seal yet/);
    await expect(health).toContainText(/schema \d+ of \d+/);
  });
});
