/**
 * The support flow of issue 3, as people do it: support finds a user by client user id, issues a
 * sign-in token with a reason, copies it; the "app" (this test, over HTTP) exchanges it; the new
 * session appears on the user page without a reload; support revokes it and the app's next refresh
 * fails. QA cannot issue for a production user (not offered; refused when forced); an auditor
 * cannot issue at all. Users are created through the API with keys an admin makes in the console.
 */
import { type APIRequestContext, expect, type Page, request as playwrightRequest, test } from "@playwright/test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { auditEvents, authFile, createKeyInConsole, EXCHANGE, postActionAs, SIGN_IN_TOKEN_TYPE, snap, unique } from "./fixtures";

async function createUser(request: APIRequestContext, key: string, clientUserId: string, name: string): Promise<string> {
  const res = await request.post("/v2/user", {
    headers: { "X-Vital-API-Key": key },
    data: { client_user_id: clientUserId, name, email: `${clientUserId}@e2e.test` },
  });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { user_id: string }).user_id;
}

/** Reads the QR code on screen back into text, as a phone would. */
async function readQr(page: Page): Promise<string | null> {
  const png = PNG.sync.read(await page.getByTestId("sign-in-token-qr").screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

let sandboxKey: string;
let productionKey: string;
let sandboxUser: { id: string; clientUserId: string };
let productionUser: { id: string; clientUserId: string };

test.beforeAll(async ({ browser, request }) => {
  const marker = unique("users");
  sandboxKey = await createKeyInConsole(browser, `${marker} sandbox`, "sandbox");
  productionKey = await createKeyInConsole(browser, `${marker} production`, "production");
  sandboxUser = { clientUserId: `${marker}-sbx`, id: "" };
  productionUser = { clientUserId: `${marker}-prod`, id: "" };
  sandboxUser.id = await createUser(request, sandboxKey, sandboxUser.clientUserId, "Sandy Sandbox");
  productionUser.id = await createUser(request, productionKey, productionUser.clientUserId, "Petra Production");
});

test.describe("support", () => {
  test.use({ storageState: authFile("support"), permissions: ["clipboard-read", "clipboard-write"] });

  test("issues a sign-in token the app redeems, sees the session live, revokes it, and the app's refresh fails", async ({ page, request }) => {
    // Find the user by client user id, typing as one does (the search runs as you type).
    await page.goto("/users");
    await page.getByLabel("Search").pressSequentially(productionUser.clientUserId, { delay: 5 });
    await expect(page).toHaveURL(new RegExp(`[?&]q=${productionUser.clientUserId}`));
    const rows = page.getByTestId("user-row");
    await expect(rows).toHaveCount(1);
    await snap(page, "users-search");
    await rows.getByRole("link", { name: productionUser.clientUserId }).click();
    await expect(page).toHaveURL(`/users/${productionUser.id}`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Petra Production");
    await expect(page.getByTestId("session-row")).toHaveCount(0);

    // Anything that reloads the page would drop this marker.
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    await page.getByRole("button", { name: "Issue sign-in token" }).click();
    const dialog = page.getByRole("dialog");
    // A reason is required before anything is issued.
    await dialog.getByRole("button", { name: "Issue token" }).click();
    await expect(dialog.getByLabel("Reason")).toBeFocused();
    await dialog.getByLabel("Reason").fill("Ticket 4411: locked out after a phone change");
    await dialog.getByLabel("Valid for").selectOption("600");
    await dialog.getByRole("button", { name: "Issue token" }).click();

    const token = await dialog.getByTestId("sign-in-token-value").inputValue();
    expect(token).toMatch(/^sit_production_us_[0-9A-Za-z]{49}$/);
    await dialog.getByRole("button", { name: "Copy token" }).click();
    await expect(dialog.getByRole("button", { name: "Copied" })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    expect(await readQr(page)).toBe(token);
    await expect(dialog.getByTestId("sign-in-token-countdown")).toContainText(/Expires in (10:00|9:\d\d)/);
    await expect(dialog.getByTestId("sign-in-token-state")).toContainText("Waiting for the app to sign in…");
    await snap(page, "issue-sign-in-token");

    // The app exchanges the token over HTTP.
    const installationId = unique("inst");
    const exchanged = await request.post("/oauth/token", {
      form: { grant_type: EXCHANGE, subject_token: token, subject_token_type: SIGN_IN_TOKEN_TYPE, installation_id: installationId },
    });
    expect(exchanged.status(), await exchanged.text()).toBe(200);
    const tokens = (await exchanged.json()) as { refresh_token: string; user_id: string };
    expect(tokens.user_id).toBe(productionUser.id);

    // The dialog sees it, and the session list behind it refreshes by itself.
    await expect(dialog.getByTestId("sign-in-token-state")).toContainText(new RegExp(`Redeemed at \\d\\d:\\d\\d:\\d\\d UTC by installation ${installationId}`));
    await snap(page, "issue-sign-in-token-redeemed");
    await dialog.getByRole("button", { name: "Done" }).click();
    const session = page.getByTestId("session-row").filter({ hasText: installationId });
    await expect(session).toHaveAttribute("data-state", "active");
    await expect(page.getByTestId("user-timeline")).toContainText("Ticket 4411: locked out after a phone change");
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await snap(page, "user-page");

    // The token worked once; a second exchange is refused.
    const again = await request.post("/oauth/token", { form: { grant_type: EXCHANGE, subject_token: token, subject_token_type: SIGN_IN_TOKEN_TYPE } });
    expect(again.status()).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });

    // Support revokes the session, giving a reason.
    await session.getByRole("button", { name: `Revoke the session of ${installationId}` }).click();
    const revoke = page.getByRole("dialog");
    await revoke.getByLabel("Reason").fill("Phone reported stolen");
    await revoke.getByRole("button", { name: "Revoke session" }).click();
    await expect(revoke).toBeHidden();
    await expect(session).toHaveAttribute("data-state", "revoked");
    await expect(page.getByTestId("user-timeline")).toContainText("Phone reported stolen");

    // The app's next refresh fails.
    const refreshed = await request.post("/oauth/token", { form: { grant_type: "refresh_token", refresh_token: tokens.refresh_token } });
    expect(refreshed.status()).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: "invalid_grant" });

    const issued = await auditEvents(page.url().replace(/\/users\/.*/, ""), {
      action: "sign_in_token.issued",
      targetType: "user",
      targetId: productionUser.id,
    });
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({ actor_name: "support@demo.tokendesk.dev", reason: "Ticket 4411: locked out after a phone change" });
    expect(JSON.stringify(issued[0])).not.toContain(token);
  });

  test("creates a user from the users page: a taken client user id is said at its field, nothing typed is lost, the new user's page opens", async ({
    page,
    baseURL,
  }) => {
    await page.goto("/users");
    // A small team is counted exactly.
    await expect(page.getByTestId("users-total")).toHaveText(/^\d[\d,]* users in all$/);
    await page.getByRole("button", { name: "Create user" }).click();
    const dialog = page.getByRole("dialog", { name: "Create a user" });
    await expect(dialog.getByLabel("Client user id")).toBeFocused();
    await dialog.getByLabel("Client user id").fill(sandboxUser.clientUserId);
    await dialog.getByLabel("Environment").selectOption("sandbox");
    await dialog.getByLabel("Region").selectOption("us");
    await dialog.getByLabel("Name", { exact: true }).fill("Nia Console");
    await dialog.getByLabel("Email").fill("nia@e2e.test");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await expect(dialog.getByRole("alert")).toHaveText("A user with this client user id already exists in sandbox / us.");
    await expect(dialog.getByLabel("Client user id")).toHaveAttribute("aria-invalid", "true");
    await expect(dialog.getByLabel("Name", { exact: true })).toHaveValue("Nia Console");
    await expect(dialog.getByLabel("Email")).toHaveValue("nia@e2e.test");
    await expect(dialog.getByLabel("Environment")).toHaveValue("sandbox");

    // The server's own checks show at their fields too (the browser's checks switched off, as a crafted form would be).
    const clientUserId = unique("console-made");
    await dialog.getByLabel("Client user id").fill(clientUserId);
    await dialog.getByRole("form", { name: "Create a user" }).evaluate((form) => ((form as HTMLFormElement).noValidate = true));
    await dialog.getByLabel("Email").fill("nia at e2e");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await expect(dialog.getByRole("alert")).toHaveText("Email must be an email address.");
    await expect(dialog.getByLabel("Client user id")).toHaveValue(clientUserId);

    await dialog.getByLabel("Email").fill("nia@e2e.test");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await expect(page).toHaveURL(/\/users\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Nia Console");
    await expect(page.getByText(clientUserId).first()).toBeVisible();
    const userId = page.url().split("/").pop()!;
    const [created] = await auditEvents(baseURL!, { action: "user.created", targetType: "user", targetId: userId });
    expect(created).toMatchObject({ actor_type: "staff", actor_name: "support@demo.tokendesk.dev", environment: "sandbox" });
  });

  test("edits a user's name and email with a reason; the email is checked in the browser first; the timeline says what changed", async ({ page, request }) => {
    const clientUserId = unique("edit-me");
    const id = await createUser(request, sandboxKey, clientUserId, "Edda Before");
    await page.goto(`/users/${id}`);
    await page.getByRole("button", { name: "Edit name and email" }).click();
    const dialog = page.getByRole("dialog", { name: `Edit ${clientUserId}` });
    await expect(dialog.getByLabel("Name", { exact: true })).toHaveValue("Edda Before");
    await expect(dialog.getByLabel("Email")).toHaveValue(`${clientUserId}@e2e.test`);
    await dialog.getByLabel("Name", { exact: true }).fill("Edda After");
    await dialog.getByLabel("Email").fill("edda at example");
    await dialog.getByLabel("Reason").fill("Ticket 5120: married name and new address");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    // Refused before anything is sent: the browser's email check, the dialog still open with what was typed.
    expect(await dialog.getByLabel("Email").evaluate((el) => (el as HTMLInputElement).validity.typeMismatch)).toBe(true);
    await expect(dialog.getByLabel("Name", { exact: true })).toHaveValue("Edda After");
    await dialog.getByLabel("Email").fill("edda.after@e2e.test");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Edda After");
    await expect(page.getByText("edda.after@e2e.test", { exact: true })).toBeVisible();
    const timeline = page.getByTestId("user-timeline");
    await expect(timeline).toContainText("User updated");
    await expect(timeline).toContainText("Ticket 5120: married name and new address");
  });

  test("the users table says when each user last signed in and was active; their page shows where each SDK session was used", async ({ page, request }) => {
    const clientUserId = unique("active");
    const id = await createUser(request, sandboxKey, clientUserId, "Avery Active");
    await createUser(request, sandboxKey, `${clientUserId}-quiet`, "Quinn Quiet");
    // The app signs in (an API key issues the token; the app exchanges it), then refreshes from another build.
    const issued = await request.post(`/v2/user/${id}/sign_in_token`, { headers: { "X-Vital-API-Key": sandboxKey } });
    expect(issued.status(), await issued.text()).toBe(200);
    const exchanged = await request.post("/oauth/token", {
      headers: { "User-Agent": "AcmeHealth/3.0 (iPhone; iOS 18.1)" },
      form: { grant_type: EXCHANGE, subject_token: ((await issued.json()) as { sign_in_token: string }).sign_in_token, subject_token_type: SIGN_IN_TOKEN_TYPE },
    });
    expect(exchanged.status(), await exchanged.text()).toBe(200);
    const refreshed = await request.post("/oauth/token", {
      headers: { "User-Agent": "AcmeHealth/3.1 (iPhone; iOS 18.2)" },
      form: { grant_type: "refresh_token", refresh_token: ((await exchanged.json()) as { refresh_token: string }).refresh_token },
    });
    expect(refreshed.status(), await refreshed.text()).toBe(200);

    await page.goto(`/users?q=${clientUserId}`);
    const rows = page.getByTestId("user-row");
    await expect(rows).toHaveCount(2);
    const active = rows.filter({ hasText: "Avery Active" });
    await expect(active.getByTestId("user-last-sign-in")).toHaveText(/^Signed in (just now|\d+ seconds? ago|\d+ minutes? ago)$/);
    await expect(active.getByTestId("user-last-active")).toHaveText(/^Active (just now|\d+ seconds? ago|\d+ minutes? ago)$/);
    const quiet = rows.filter({ hasText: "Quinn Quiet" });
    await expect(quiet.getByTestId("user-last-sign-in")).toHaveText("Never signed in");
    await expect(quiet.getByTestId("user-last-active")).toHaveCount(0);

    await active.getByRole("link", { name: clientUserId }).click();
    const session = page.getByTestId("session-row");
    await expect(session).toHaveCount(1);
    // No trusted proxy in this deployment: the IP is not known, and says so.
    await expect(session.getByTestId("session-first-use")).toHaveText("IP not recorded · AcmeHealth/3.0 (iPhone; iOS 18.1)");
    await expect(session.getByTestId("session-latest-use")).toHaveText("IP not recorded · AcmeHealth/3.1 (iPhone; iOS 18.2)");
  });

  test("pages through many matches with Next page and First page, keeping the filters in the URL", async ({ page, request }) => {
    const marker = unique("paging");
    for (let i = 0; i < 27; i++) await createUser(request, sandboxKey, `${marker}-${String(i).padStart(2, "0")}`, `Pager ${i}`);
    await page.goto(`/users?q=${marker}&environment=sandbox&status=active`);
    await expect(page.getByTestId("user-row")).toHaveCount(25);
    // Newest first: the last one created leads.
    await expect(page.getByTestId("user-row").first()).toContainText(`${marker}-26`);
    await snap(page, "users-list");
    await page.getByRole("link", { name: "Next page →" }).click();
    await expect(page).toHaveURL(/cursor=/);
    await expect(page).toHaveURL(/environment=sandbox/);
    await expect(page.getByTestId("user-row")).toHaveCount(2);
    await expect(page.getByTestId("user-row").last()).toContainText(`${marker}-00`);
    await expect(page.getByRole("link", { name: "Next page →" })).toHaveCount(0);
    await page.getByRole("link", { name: "First page" }).click();
    await expect(page).not.toHaveURL(/cursor=/);
    await expect(page.getByTestId("user-row")).toHaveCount(25);
  });

  test("the search link can be shared and says when nothing matches", async ({ page }) => {
    await page.goto(`/users?q=${encodeURIComponent("no-such-user-anywhere")}&status=active`);
    await expect(page.getByText("No user matches “no-such-user-anywhere” with these filters")).toBeVisible();
    await expect(page.getByLabel("Search")).toHaveValue("no-such-user-anywhere");
    await expect(page.getByLabel("Status")).toHaveValue("active");
  });
});

test.describe("qa", () => {
  test.use({ storageState: authFile("qa") });

  test("is not offered production users or their issue button", async ({ page }) => {
    await page.goto(`/users?q=${productionUser.clientUserId}`);
    await expect(page.getByText(`No user matches “${productionUser.clientUserId}”`)).toBeVisible();
    await expect(page.getByLabel("Environment").locator("option")).toHaveText(["sandbox"]);
    const res = await page.goto(`/users/${productionUser.id}`);
    expect(res!.status()).toBe(403);
    await expect(page.getByRole("button", { name: "Issue sign-in token" })).toHaveCount(0);
  });

  test("is refused by the server when forcing an issue for a production user", async ({ page, baseURL }) => {
    await page.goto(`/users/${sandboxUser.id}`);
    await page.getByRole("button", { name: "Issue sign-in token" }).click();
    const dialog = page.getByRole("dialog");
    // A crafted request: the sandbox user's form, pointed at the production user.
    await dialog.locator('input[name="userId"]').evaluate((el, id) => ((el as HTMLInputElement).value = id), productionUser.id);
    await dialog.getByLabel("Reason").fill("forcing production");
    await dialog.getByRole("button", { name: "Issue token" }).click();
    await expect(dialog.getByRole("alert")).toHaveText("QA staff may only act in the sandbox environment.");
    await expect(dialog.getByTestId("sign-in-token-value")).toHaveCount(0);
    expect(
      await auditEvents(baseURL!, { action: "sign_in_token.issued", targetType: "user", targetId: productionUser.id, actor: "qa@demo.tokendesk.dev" }),
    ).toEqual([]);
  });

  test("can issue for a sandbox user", async ({ page }) => {
    await page.goto(`/users/${sandboxUser.id}`);
    await page.getByRole("button", { name: "Issue sign-in token" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Reason").fill("QA run 17");
    await dialog.getByRole("button", { name: "Issue token" }).click();
    await expect(dialog.getByTestId("sign-in-token-value")).toHaveValue(/^sit_sandbox_us_/);
  });
});

test.describe("the console's JSON status route", () => {
  test("answers 401 signed out, the state to staff who may see the user, and 403 to qa for production", async ({ playwright, baseURL }) => {
    const [issued] = await auditEvents(baseURL!, { action: "sign_in_token.issued", targetType: "user", targetId: productionUser.id });
    const tokenId = issued?.details.signInTokenId as string;
    expect(tokenId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const path = `/api/console/sign-in-tokens/${tokenId}`;
    const as = (role?: "auditor" | "qa") => playwright.request.newContext({ baseURL, storageState: role ? authFile(role) : undefined });

    const anonymous = await as();
    const signedOut = await anonymous.get(path);
    expect(signedOut.status()).toBe(401);
    expect(signedOut.headers()["cache-control"]).toContain("no-store");
    expect(await signedOut.json()).toMatchObject({ error: { code: "unauthorized" } });

    const auditor = await as("auditor");
    const seen = await auditor.get(path);
    expect(seen.status()).toBe(200);
    expect(await seen.json()).toMatchObject({ id: tokenId, userId: productionUser.id, state: "redeemed", installationId: expect.stringMatching(/^inst-/) });
    expect(JSON.stringify(await (await auditor.get(path)).json())).not.toMatch(/sit_/);
    expect((await auditor.get("/api/console/sign-in-tokens/not-a-uuid")).status()).toBe(404);

    const qa = await as("qa");
    const refused = await qa.get(path);
    expect(refused.status()).toBe(403);
    expect((await qa.get(`/api/console/users/${productionUser.id}/sessions`)).status()).toBe(403);
    expect((await qa.get(`/api/console/users/${sandboxUser.id}/sessions`)).status()).toBe(200);
    await Promise.all([anonymous.dispose(), auditor.dispose(), qa.dispose()]);
  });
});

test.describe("auditor", () => {
  test.use({ storageState: authFile("auditor") });

  test("reads users but cannot issue, disable, delete or revoke: no buttons, and the server refuses the actions", async ({ page, request, baseURL }) => {
    // A live session for the auditor to try to end.
    const issued = await request.post(`/v2/user/${productionUser.id}/sign_in_token`, { headers: { "X-Vital-API-Key": productionKey }, data: {} });
    expect(issued.status()).toBe(200);
    const { sign_in_token } = (await issued.json()) as { sign_in_token: string };
    const exchanged = await request.post("/oauth/token", {
      form: { grant_type: EXCHANGE, subject_token: sign_in_token, subject_token_type: SIGN_IN_TOKEN_TYPE, installation_id: unique("audited-inst") },
    });
    expect(exchanged.status()).toBe(200);
    const { refresh_token, access_token } = (await exchanged.json()) as { refresh_token: string; access_token: string };
    const sessionId = (JSON.parse(Buffer.from(access_token.split(".")[1]!, "base64url").toString()) as { sid: string }).sid;

    await page.goto(`/users/${productionUser.id}`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Petra Production");
    await expect(page.getByTestId("user-timeline")).toContainText("User created");
    await expect(page.getByRole("button", { name: "Issue sign-in token" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: /Disable user|Delete user|Revoke/ })).toHaveCount(0);

    // What an admin sees of the user, before and after: the user, its sessions, its audit trail.
    const seen = async () => {
      const user = await request.get(`/v2/user/${productionUser.id}`, { headers: { "X-Vital-API-Key": productionKey } });
      const admin = await playwrightRequest.newContext({ baseURL, storageState: authFile("admin") });
      const sessions = await (await admin.get(`/api/console/users/${productionUser.id}/sessions`)).json();
      await admin.dispose();
      return {
        user: await user.json(),
        sessions,
        events: await auditEvents(baseURL!, { targetId: productionUser.id }),
        sessionEvents: await auditEvents(baseURL!, { targetId: sessionId }),
      };
    };
    const before = await seen();
    expect(before.sessions.sessions.map((s: { id: string; revokedAt: string | null }) => [s.id, s.revokedAt])).toContainEqual([sessionId, null]);

    // A crafted request for each action the page does not offer: the server refuses every one.
    const USERS = "app/(console)/users/[id]/actions.ts";
    const at = `/users/${productionUser.id}`;
    const userId = productionUser.id;
    const calls: Array<[string, Record<string, string>]> = [
      ["issueSignInTokenAction", { userId, reason: "auditor trying" }],
      ["setUserDisabledAction", { userId, disabled: "true", reason: "auditor trying" }],
      ["deleteUserAction", { userId, reason: "auditor trying", confirm: productionUser.clientUserId }],
      ["revokeSessionAction", { userId, sessionId, reason: "auditor trying" }],
      ["revokeAllSessionsAction", { userId, reason: "auditor trying" }],
    ];
    for (const [name, fields] of calls) {
      const reply = await postActionAs(baseURL!, "auditor", { file: USERS, name, page: at, fields });
      expect(reply.answer, name).toEqual({ ok: false, code: "forbidden", error: "The Auditor role may not do this." });
    }

    // Nothing changed (the same refusals are checked against a digest of every table in
    // tests/http/rbac-actions.test.ts), and the session the auditor tried to end still refreshes.
    expect(await seen()).toEqual(before);
    const refreshed = await request.post("/oauth/token", { form: { grant_type: "refresh_token", refresh_token } });
    expect(refreshed.status()).toBe(200);
  });
});
