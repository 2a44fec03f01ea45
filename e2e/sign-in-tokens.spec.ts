/**
 * Issue 14, point 5: the user page lists the user's pending sign-in tokens (who issued each, when,
 * until when) and support revokes one with a reason: it leaves the list without a reload, its
 * exchange fails, and the audit log says `sign_in_token.revoked` with the reason.
 */
import { expect, test } from "@playwright/test";
import { auditEvents, authFile, createKeyInConsole, demo, EXCHANGE, SIGN_IN_TOKEN_TYPE, unique } from "./fixtures";

test.use({ storageState: authFile("support") });

test("support sees pending sign-in tokens and revokes one with a reason", async ({ page, request, browser, baseURL }) => {
  const key = await createKeyInConsole(browser, unique("e2e tokens key"));
  const clientUserId = unique("pending");
  const created = await request.post("/v2/user", { headers: { "X-Vital-API-Key": key }, data: { client_user_id: clientUserId, name: "Pat Pending" } });
  expect(created.status(), await created.text()).toBe(200);
  const userId = ((await created.json()) as { user_id: string }).user_id;
  // The integrator's backend minted one earlier.
  const minted = await request.post(`/v2/user/${userId}/sign_in_token`, { headers: { "X-Vital-API-Key": key }, data: { expires_in_seconds: 3600 } });
  const apiToken = (await minted.json()) as { token_id: string };

  await page.goto(`/users/${userId}`);
  const list = page.getByTestId("user-sign-in-tokens");
  await expect(list.getByTestId("pending-token-row")).toHaveCount(1);
  await expect(list.getByTestId("pending-token-row").first()).toHaveAttribute("data-token-id", apiToken.token_id);
  await expect(list.getByTestId("pending-token-row").first()).toContainText("API key e2e tokens key");

  // Support issues one in the console: it joins the list without a reload.
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
  await page.getByRole("button", { name: "Issue sign-in token" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Reason").fill("Ticket 5120: new phone");
  await dialog.getByRole("button", { name: "Issue token" }).click();
  const token = await dialog.getByTestId("sign-in-token-value").inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();
  const rows = list.getByTestId("pending-token-row");
  await expect(rows).toHaveCount(2);
  const mine = rows.filter({ hasText: demo("support").name });
  await expect(mine).toContainText("Ticket 5120: new phone");

  // The phone with that token is lost: revoke it, with a reason.
  await mine.getByRole("button", { name: /^Revoke the sign-in token issued / }).click();
  const confirm = page.getByRole("dialog", { name: "Revoke this sign-in token?" });
  await confirm.getByRole("button", { name: "Revoke token" }).click();
  await expect(confirm.getByLabel("Reason")).toBeFocused(); // required before anything happens
  await confirm.getByLabel("Reason").fill("Ticket 5120: phone lost before sign-in");
  await confirm.getByRole("button", { name: "Revoke token" }).click();
  await expect(confirm).toBeHidden();
  await expect(list.getByRole("status").first()).toContainText("Sign-in token revoked");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-token-id", apiToken.token_id);
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);

  const exchange = await request.post("/oauth/token", { form: { grant_type: EXCHANGE, subject_token: token, subject_token_type: SIGN_IN_TOKEN_TYPE } });
  expect(exchange.status()).toBe(400);
  expect(((await exchange.json()) as { error: string }).error).toBe("invalid_grant");

  const events = await auditEvents(baseURL!, { action: "sign_in_token.revoked", targetId: userId });
  expect(events.map((e) => [e.actor_name, e.reason])).toEqual([[demo("support").email, "Ticket 5120: phone lost before sign-in"]]);
  await expect(page.getByTestId("user-timeline")).toContainText("Ticket 5120: phone lost before sign-in");
  // Issue 14, point 12: taking something back does not wear the green of giving it.
  const timeline = page.getByTestId("user-timeline");
  await expect(timeline.locator('[data-action="sign_in_token.revoked"]').first()).toHaveAttribute("data-tone", "bad");
  await expect(timeline.locator('[data-action="sign_in_token.issued"]').first()).toHaveAttribute("data-tone", "good");
});
