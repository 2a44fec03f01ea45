/**
 * Webhooks in the console, against a receiver in this test process that verifies every delivery
 * with the `standardwebhooks` library: an admin adds an endpoint for one event type and sees its
 * secret exactly once, sends a test event and sees the delivery (status, attempts, response code,
 * payload); an IDV session then submitted through the phone flow arrives exactly once, and replaying
 * it from the console sends the same webhook-id again.
 */
import { devices, expect, type Page, test } from "@playwright/test";
import { startWebhookReceiver, type WebhookReceiver } from "../tests/helpers/webhook-receiver";
import { auditEvents, authFile, snap, takePhoto, unique } from "./fixtures";

test.use({ storageState: authFile("admin") });

let receiver: WebhookReceiver;
test.beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
test.afterAll(async () => {
  await receiver.close();
});

/** Reloads the endpoint page until a delivery row shows `text` (the dispatcher polls every second). */
async function expectDelivery(page: Page, eventType: string, text: string) {
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("delivery-row").filter({ hasText: eventType }).first()).toContainText(text, { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
}

test("admin adds an endpoint, sees the secret once, sends a test event and sees it delivered; a phone-submitted IDV session arrives once", async ({
  page,
  browser,
  baseURL,
}) => {
  // One long story (console, phone, console again) with waits on a background dispatcher.
  test.setTimeout(240_000);
  const description = unique("e2e receiver");
  await page.goto("/webhooks");
  await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
  await page.getByRole("button", { name: "Add endpoint" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("URL").fill(receiver.url("/e2e"));
  await dialog.getByLabel("Environment").selectOption("sandbox");
  await dialog.getByLabel("Description").fill(description);
  await dialog.getByLabel("All events").uncheck();
  await dialog.getByLabel("idv_session.submitted").check();
  await snap(page, "webhooks-create");
  await dialog.getByRole("button", { name: "Add endpoint" }).click();

  await expect(dialog.getByText("You won't see this secret again")).toBeVisible();
  const secret = await dialog.getByTestId("webhook-secret").inputValue();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.setSecrets([secret]);
  await snap(page, "webhooks-secret-once");
  await dialog.getByRole("button", { name: "I have stored the secret" }).click();

  const link = page.getByRole("link", { name: receiver.url("/e2e") });
  await expect(link).toBeVisible();
  expect(await page.content()).not.toContain(secret.slice(6));
  await link.click();
  await expect(page.getByRole("heading", { name: receiver.url("/e2e"), level: 1 })).toBeVisible();
  const endpointId = page.url().split("/").pop()!;
  expect(await page.content()).not.toContain(secret.slice(6));

  // A test event: delivered, verified, and listed with its response code and payload.
  await page.getByRole("button", { name: "Send a test event" }).click();
  await expect(page.getByText(/Test event msg_[0-9a-f]{32} queued/)).toBeVisible();
  await expect.poll(() => receiver.received.filter((r) => r.payload?.type === "webhook.test").length, { timeout: 30_000 }).toBe(1);
  expect(receiver.received[0]).toMatchObject({ verified: true, status: 204, path: "/e2e", payload: { data: { endpoint_id: endpointId } } });
  await expectDelivery(page, "webhook.test", "delivered");
  const testRow = page.getByTestId("delivery-row").filter({ hasText: "webhook.test" });
  await expect(testRow).toContainText("HTTP 204");
  await expect(testRow).toContainText(receiver.received[0]!.id);
  await testRow.getByText("Show payload").click();
  await expect(testRow.locator("pre")).toContainText('"type": "webhook.test"');
  await snap(page, "webhooks-endpoint-delivered");

  // The phone flow: a handoff issued in the console, completed on a phone.
  await page.goto("/handoffs");
  const form = page.getByRole("form", { name: "Issue IDV handoff" });
  await form.getByLabel("External user id", { exact: true }).fill(unique("wh-idv"));
  await form.getByLabel("Environment").selectOption("sandbox");
  await form.getByLabel("Workflow").selectOption({ label: "Full KYC: ID, selfie and details" });
  await form.getByLabel("Reason").fill("e2e: webhook on submit");
  await form.getByRole("button", { name: "Issue handoff" }).click();
  const live = page.getByTestId("handoff-live");
  await expect(live).toBeVisible();
  const sessionId = (await live.getAttribute("data-session-id"))!;
  const fullUrl = await live.getByTestId("handoff-url").inputValue();
  expect(fullUrl.startsWith(`${baseURL}/capture?`)).toBe(true);

  const phoneContext = await browser.newContext({ ...devices["Pixel 7"], storageState: undefined });
  const phone = await phoneContext.newPage();
  await phone.goto(fullUrl);
  await expect(phone).toHaveURL(/\/mobile\?authorization=et_/);
  await takePhoto(phone, 11);
  await takePhoto(phone, 12);
  await phone.getByLabel("Full name").fill("Grace Hopper");
  await phone.getByLabel("Date of birth").fill("1906-12-09");
  await phone.getByRole("button", { name: "Continue" }).click();
  await phone.getByRole("button", { name: "Submit verification" }).click();
  await expect(phone.getByTestId("mobile-done")).toContainText("Thank you, you are done");
  await phoneContext.close();

  const forSession = () => receiver.received.filter((r) => r.payload?.type === "idv_session.submitted" && r.payload.data.session_id === sessionId);
  await expect.poll(() => forSession().length, { timeout: 30_000 }).toBe(1);
  const submitted = forSession()[0]!;
  expect(submitted).toMatchObject({ verified: true, status: 204, payload: { version: 1, data: { status: "submitted", steps: expect.any(Array) } } });

  // Replay from the console: the same webhook-id arrives again, and the replay is audited.
  await page.goto(`/webhooks/${endpointId}`);
  await expectDelivery(page, "idv_session.submitted", "delivered");
  const row = page.getByTestId("delivery-row").filter({ hasText: submitted.id });
  await row.getByRole("button", { name: "Replay" }).click();
  await expect.poll(() => forSession().length, { timeout: 30_000 }).toBe(2);
  expect(forSession().map((r) => [r.id, r.verified])).toEqual([
    [submitted.id, true],
    [submitted.id, true],
  ]);
  const audited = await auditEvents(baseURL!, { targetType: "webhook_endpoint", targetId: endpointId });
  expect(audited.map((e) => e.action).sort()).toEqual(["webhook_delivery.replayed", "webhook_endpoint.created", "webhook_endpoint.test_sent"]);

  // Tidy up: other specs' sandbox events must not keep going to this receiver.
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete endpoint" }).click();
  await expect(page).toHaveURL(/\/webhooks$/);
  await expect(page.getByRole("link", { name: receiver.url("/e2e") })).toHaveCount(0);
});
