/**
 * Issue 4, as a manager would check it: the test drives a set of app installations through API-key
 * usage and migration (some rejected); the migrations report then shows the same counts for that
 * key, the chart, the events, and the export contains exactly those events.
 */
import { type APIRequestContext, expect, test } from "@playwright/test";
import { auditEvents, authFile, createKeyInConsole, EXCHANGE, SIGN_IN_TOKEN_TYPE, unique } from "./fixtures";

async function migrate(request: APIRequestContext, key: string, userId: string, installationId: string, previousUserId: string | null) {
  const minted = await request.post(`/v2/user/${userId}/sign_in_token`, { headers: { "X-Vital-API-Key": key } });
  expect(minted.status()).toBe(200);
  const { sign_in_token } = (await minted.json()) as { sign_in_token: string };
  const form: Record<string, string> = {
    grant_type: EXCHANGE,
    subject_token: sign_in_token,
    subject_token_type: SIGN_IN_TOKEN_TYPE,
    installation_id: installationId,
  };
  if (previousUserId) form.previous_user_id = previousUserId;
  return request.post("/oauth/token", { headers: { "X-Vital-API-Key": key }, form });
}

test("the migrations report shows what the installations did, with chart, events and export", async ({ browser, request, baseURL }) => {
  const marker = unique("mig");
  const key = await createKeyInConsole(browser, `${marker} legacy app key`);
  const prefix = key.slice(0, 10);

  // Five installations run in API-key mode, each as its own user.
  const users: string[] = [];
  for (let i = 0; i < 5; i++) {
    const created = await request.post("/v2/user", { headers: { "X-Vital-API-Key": key }, data: { client_user_id: `${marker}-${i}` } });
    expect(created.status()).toBe(200);
    const userId = ((await created.json()) as { user_id: string }).user_id;
    users.push(userId);
    const call = await request.get(`/v2/user/${userId}`, { headers: { "X-Vital-API-Key": key, "X-Installation-Id": `${marker}-inst-${i}` } });
    expect(call.status()).toBe(200);
  }
  // Three migrate; two are refused (wrong user; no previous user id).
  for (const i of [0, 1, 2]) expect((await migrate(request, key, users[i]!, `${marker}-inst-${i}`, users[i]!)).status()).toBe(200);
  for (const [i, prev] of [
    [3, users[4]!],
    [4, null],
  ] as const) {
    const refused = await migrate(request, key, users[i]!, `${marker}-inst-${i}`, prev);
    expect(refused.status()).toBe(400);
    expect(((await refused.json()) as { error_description: string }).error_description).toMatch(/^incompatible_migration:/);
  }

  const context = await browser.newContext({ storageState: authFile("auditor") });
  const page = await context.newPage();
  await page.goto("/migrations");
  await expect(page.getByRole("heading", { name: "Migration off API keys" })).toBeVisible();
  const row = page.getByTestId(`migration-key-${prefix}`);
  await expect(row.locator('[data-col="seen"]')).toHaveText("5");
  await expect(row.locator('[data-col="migrated"]')).toHaveText("3");
  await expect(row.locator('[data-col="remaining"]')).toHaveText("2");
  await expect(row.locator('[data-col="rejected"]')).toHaveText("2");
  await expect(row).toContainText("user mismatch × 1");
  await expect(row).toContainText("previous user id missing × 1");
  await expect(row.getByTestId("revoke-safety")).toHaveAttribute("data-safety", "in_use");
  await expect(row).toContainText("In use by 2 apps");
  // Every call with the key counts, with when it happened (stamped asynchronously).
  await expect(async () => {
    await page.reload();
    await expect(row.getByTestId("key-last-used")).not.toHaveText("never", { timeout: 1000 });
  }).toPass();

  // Narrow to this key: the totals, the chart and the events are this key's alone.
  const keyId = await page.locator("#m-key option", { hasText: prefix }).getAttribute("value");
  const created = (await auditEvents(baseURL!, { action: "api_key.created" })).filter((e) => e.details.prefix === prefix);
  expect(created.map((e) => e.target_id)).toEqual([keyId]);
  await page.locator("#m-key").selectOption(keyId!);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(new RegExp(`apiKeyId=${keyId}`));
  await expect(page.getByTestId("totals-migrated")).toHaveText("3");
  await expect(page.getByTestId("totals-rejected")).toHaveText("2");
  // The figures agree with the events listed below (three completed, two rejected).
  await expect(page.getByTestId("totals-completed-events")).toHaveText("3");
  const today = new Date().toISOString().slice(0, 10);
  const chart = page.getByTestId("migration-chart");
  // A real chart: axes with values, a bar per day with a tooltip, and the same numbers in a table.
  await expect(chart.locator(".recharts-xAxis-tick-labels text").first()).toHaveText(/^\d\d-\d\d$/);
  await expect(chart.locator(".recharts-yAxis-tick-labels text").first()).toHaveText(/^\d+$/);
  const todayRow = page.getByTestId("migration-chart-table").locator(`tr[data-day="${today}"]`);
  await expect(todayRow.locator('[data-key="completed"]')).toHaveText("3");
  await expect(todayRow.locator('[data-key="rejected"]')).toHaveText("2");
  const bars = chart.locator(".recharts-bar-rectangle");
  await bars.last().hover();
  await expect(chart.locator(".recharts-tooltip-wrapper")).toContainText(today);
  await expect(chart.locator(".recharts-tooltip-wrapper")).toContainText("Completed : 3");
  await expect(page.getByTestId("audit-row")).toHaveCount(5);

  // The export of the same selection holds exactly those five events.
  const exportHref = await page.getByRole("link", { name: "Export NDJSON" }).getAttribute("href");
  const res = await context.request.get(exportHref!);
  expect(res.status()).toBe(200);
  const events = (await res.text())
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { action: string; reason: string | null; details: { userId: string; apiKeyPrefix: string } });
  expect(events).toHaveLength(5);
  expect(
    events
      .filter((e) => e.action === "migration.completed")
      .map((e) => e.details.userId)
      .sort(),
  ).toEqual([users[0], users[1], users[2]].sort());
  expect(
    events
      .filter((e) => e.action === "migration.rejected")
      .map((e) => e.reason)
      .sort(),
  ).toEqual(["previous_user_id_missing", "user_mismatch"]);
  expect(events.every((e) => e.details.apiKeyPrefix === prefix)).toBe(true);
  expect(await res.text()).not.toContain(key);
  await context.close();

  // The admin revokes the key: the dialog names the two installations that will break, and the
  // revocation goes through only once that is confirmed — which the audit log records.
  const adminContext = await browser.newContext({ storageState: authFile("admin") });
  const admin = await adminContext.newPage();
  await admin.goto("/api-keys");
  await admin.getByRole("button", { name: `Revoke ${marker} legacy app key` }).click();
  const dialog = admin.getByRole("dialog");
  await expect(dialog).toContainText("2 installations will break");
  await dialog.getByLabel("Reason").fill("legacy app retired");
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await expect(dialog).toBeVisible(); // the unticked confirmation stops the form
  await dialog.getByLabel("I understand that 2 installations will break").check();
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await expect(dialog).toBeHidden();
  expect((await request.get("/v2/users", { headers: { "X-Vital-API-Key": key } })).status()).toBe(401);
  const [revoked] = await auditEvents(baseURL!, { action: "api_key.revoked", targetId: keyId! });
  expect(revoked).toMatchObject({ reason: "legacy app retired", details: { breakingInstallations: 2, confirmedBreakingInstallations: true } });
  await adminContext.close();
});

test("a key only a backend calls is not safe to revoke, and its revoke dialog says when it was last used", async ({ browser, request }) => {
  const name = unique("backend only key");
  const key = await createKeyInConsole(browser, name);
  const prefix = key.slice(0, 10);
  // The backend calls without an installation id: no app is on the key.
  expect((await request.get("/v2/users?limit=1", { headers: { "X-Vital-API-Key": key } })).status()).toBe(200);

  const context = await browser.newContext({ storageState: authFile("admin") });
  const page = await context.newPage();
  const row = page.getByTestId(`migration-key-${prefix}`);
  await expect(async () => {
    await page.goto("/migrations");
    await expect(row.getByTestId("revoke-safety")).toHaveAttribute("data-safety", "recently_used", { timeout: 1000 });
  }).toPass();
  await expect(row).toContainText("In use by a backend");
  await expect(row).not.toContainText("Safe to revoke");
  await expect(row.locator('[data-col="seen"]')).toHaveText("0");

  await page.goto("/api-keys");
  await page.getByRole("button", { name: `Revoke ${name}` }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByTestId("revoke-impact")).toContainText("This key is still in use");
  await expect(dialog.getByTestId("revoke-impact")).toContainText(/The last call with it was (just now|\d+ (seconds?|minutes?) ago)/);
  await context.close();
});
