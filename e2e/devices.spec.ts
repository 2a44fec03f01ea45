/**
 * DeviceTokens as support would use them: an admin creates an instance (its key shown once), an app
 * registers a device over the API, support finds the device by ClientId, reads its decoded JWT,
 * disables it with a reason; the device's next /v1/Devices/me is a 401 envelope, and the pasted JWT
 * shows "Device disabled" in the inspector.
 */
import { expect, test } from "@playwright/test";
import { auditEvents, authFile, postActionAs, unique } from "./fixtures";

test("support finds a device by ClientId, sees its JWT, disables it, and the device is refused at once", async ({ browser, baseURL, request }) => {
  const marker = unique("e2e-fleet");
  const clientId = unique("driver");

  // An admin creates the instance; the InstanceKey is on screen this once.
  const admin = await browser.newContext({ storageState: authFile("admin") });
  const adminPage = await admin.newPage();
  await adminPage.goto("/instances");
  const form = adminPage.getByRole("form", { name: "Create an instance" });
  await form.getByLabel("Name").fill(marker);
  await form.getByRole("button", { name: "Create instance" }).click();
  await expect(adminPage.getByText(`Instance "${marker}" created (sandbox).`)).toBeVisible();
  const instanceId = (await adminPage.getByTestId("new-instance-id").textContent())!.trim();
  const instanceKey = (await adminPage.getByTestId("new-instance-key").textContent())!.trim();
  await adminPage.screenshot({ path: test.info().outputPath("devices-instances.png"), fullPage: true });
  await admin.close();

  // The app registers a device.
  const reg = await request.post("/v1/Registration/create", {
    headers: { InstanceId: instanceId, InstanceKey: instanceKey },
    data: { UserFields: { ClientId: clientId }, FirstName: "Erin", LastName: "Endtoend" },
  });
  expect(reg.status()).toBe(200);
  const { Result } = (await reg.json()) as { Result: { DeviceToken: string; AccessToken: { Token: string }; RefreshToken: string } };
  const jwt = Result.AccessToken.Token;
  const jti = (JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as { jti: string }).jti;
  expect((await request.get("/v1/Devices/me", { headers: { Authorization: `Bearer ${jwt}` } })).status()).toBe(200);

  // Support finds it by ClientId.
  const support = await browser.newContext({ storageState: authFile("support") });
  const page = await support.newPage();
  await page.goto("/devices");
  await page.getByLabel("DeviceToken, ClientId, email or name").fill(clientId);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`/devices\\?q=${clientId}`));
  const row = page.getByRole("row").filter({ hasText: clientId });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("Active");
  await row.getByRole("link").click();

  // The device page: registration fields and the decoded current JWT.
  await expect(page.getByRole("heading", { level: 1, name: clientId })).toBeVisible();
  await expect(page.getByText("Erin", { exact: true })).toBeVisible();
  const current = page.getByTestId("current-jwt");
  await expect(current).toContainText("Valid");
  await expect(current).toContainText(jti);
  await expect(current).toContainText('"aud": "tokendesk-device"');
  await page.screenshot({ path: test.info().outputPath("devices-device.png"), fullPage: true });

  // Disable it; the reason is required.
  await page.getByRole("button", { name: "Disable device" }).click();
  const dialog = page.getByRole("dialog", { name: "Disable this device?" });
  await dialog.getByLabel("Reason").fill("Driver reported the phone stolen");
  await dialog.getByRole("button", { name: "Disable device" }).click();
  await expect(page.getByText("Device disabled: its JWTs, logins and refreshes are refused from now on.")).toBeVisible();
  await expect(current).toContainText("Refused: device disabled");
  await expect(page.getByRole("button", { name: "Enable device" })).toBeVisible();

  // The device's next call is refused in the envelope.
  const me = await request.get("/v1/Devices/me", { headers: { Authorization: `Bearer ${jwt}` } });
  expect(me.status()).toBe(401);
  const body = (await me.json()) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(["Result", "Status", "Title", "Errors"]);
  expect(body).toMatchObject({ Result: null, Status: 401, Title: "", Errors: [{ Key: "Authorization", Message: "This device has been disabled." }] });

  // The inspector says why.
  await page.getByRole("link", { name: "JWT inspector" }).click();
  await page.getByRole("textbox", { name: "Token" }).fill(jwt);
  await page.getByRole("button", { name: "Inspect" }).click();
  const inspection = page.getByTestId("jwt-inspection");
  await expect(inspection.getByText("Device disabled", { exact: true })).toBeVisible();
  await expect(inspection.getByText("Signature valid", { exact: true })).toBeVisible();
  await expect(inspection).toContainText("Refused");
  await expect(page).toHaveURL(/\/inspector$/);
  await page.screenshot({ path: test.info().outputPath("devices-inspector.png"), fullPage: true });
  await support.close();

  const events = await auditEvents(baseURL!, { action: "device.disabled" });
  expect(events.filter((e) => e.reason === "Driver reported the phone stolen")).toHaveLength(1);
  // The pasted token went nowhere: no audit event carries it.
  const all = await auditEvents(baseURL!, { action: "device." });
  expect(JSON.stringify(all)).not.toContain(jwt);
});

test("a whole DeviceToken typed into the search opens the device without landing in the URL; an auditor cannot disable or revoke it", async ({
  browser,
  request,
  baseURL,
}) => {
  const admin = await browser.newContext({ storageState: authFile("admin") });
  const adminPage = await admin.newPage();
  await adminPage.goto("/instances");
  const form = adminPage.getByRole("form", { name: "Create an instance" });
  await form.getByLabel("Name").fill(unique("e2e-token-search"));
  await form.getByRole("button", { name: "Create instance" }).click();
  const instanceId = (await adminPage.getByTestId("new-instance-id").textContent())!.trim();
  const instanceKey = (await adminPage.getByTestId("new-instance-key").textContent())!.trim();
  await admin.close();
  const reg = await request.post("/v1/Registration/create", { headers: { InstanceId: instanceId, InstanceKey: instanceKey } });
  const { Result } = (await reg.json()) as { Result: { DeviceToken: string; AccessToken: { Token: string }; RefreshToken: string } };
  const deviceToken = Result.DeviceToken;

  const auditor = await browser.newContext({ storageState: authFile("auditor") });
  const page = await auditor.newPage();
  await page.goto("/devices");
  await page.getByLabel("DeviceToken, ClientId, email or name").fill(deviceToken);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(deviceToken.slice(0, 11));
  expect(page.url()).not.toContain(deviceToken);
  const deviceId = new URL(page.url()).pathname.split("/").pop()!;
  // Auditors read; they have no actions: none offered, and the server refuses them when forced.
  await expect(page.getByRole("button", { name: "Disable device" })).toHaveCount(0);
  const before = await auditEvents(baseURL!, { targetType: "device", targetId: deviceId });
  const DEVICES = "app/(console)/devices/actions.ts";
  for (const [name, fields] of [
    ["setDeviceDisabledAction", { id: deviceId, disabled: "true", reason: "auditor trying" }],
    ["revokeDeviceTokensAction", { id: deviceId, reason: "auditor trying" }],
  ] as const) {
    const reply = await postActionAs(baseURL!, "auditor", { file: DEVICES, name, page: `/devices/${deviceId}`, fields });
    expect(reply.answer, name).toEqual({ ok: false, code: "forbidden", error: "The Auditor role may not do this." });
  }
  // Nothing happened to the device: no event, its JWT still works and its refresh token still refreshes.
  expect(await auditEvents(baseURL!, { targetType: "device", targetId: deviceId })).toEqual(before);
  expect((await request.get("/v1/Devices/me", { headers: { Authorization: `Bearer ${Result.AccessToken.Token}` } })).status()).toBe(200);
  const refreshed = await request.post("/v1/Auth/RefreshToken", { data: { AccessToken: Result.AccessToken.Token, RefreshToken: Result.RefreshToken } });
  expect(refreshed.status()).toBe(200);
  await auditor.close();
});
