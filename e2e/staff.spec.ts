/**
 * Admins manage staff in the browser; each change applies to the member's existing session on its
 * very next request (the session cookie only names the member; the row decides).
 */
import { expect, type Page, test } from "@playwright/test";
import { auditEvents, authFile, createStaffViaUi, postActionAs, signedInContext, snap, unique } from "./fixtures";

test.use({ storageState: authFile("admin") });

const SESSION_ENDED = "Your session has ended because your account was changed or disabled. Sign in again to continue.";

async function signInWithForm(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("creates a member who can then sign in, and refuses a duplicate in words", async ({ page, browser, baseURL }) => {
  const email = `${unique("new-member")}@e2e.test`;
  const id = await createStaffViaUi(page, { email, role: "qa", password: "first password 123", name: "New Member" });
  const row = page.getByTestId(`staff-row-${email}`);
  await expect(row).toContainText("New Member");
  await expect(row).toContainText("Active");
  await snap(page, "staff");

  const form = page.getByRole("form", { name: "Add a staff member" });
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Initial password").fill("another password 1");
  await form.getByRole("button", { name: "Add staff member" }).click();
  await expect(form.getByRole("alert")).toHaveText(`A staff member with the email ${email} already exists.`);
  await form.getByLabel("Email").fill(`${unique("short")}@e2e.test`);
  await form.getByLabel("Initial password").fill("short");
  await form.getByRole("button", { name: "Add staff member" }).click();
  // The browser's own check (minlength mirrors the server's 12) refuses it before anything is sent;
  // the server's sentence for it is in forms.spec.ts.
  expect(await form.getByLabel("Initial password").evaluate((i: HTMLInputElement) => i.validity.tooShort)).toBe(true);
  await expect(page.getByTestId(/^staff-row-short-/)).toHaveCount(0);

  const created = await auditEvents(baseURL!, { action: "staff.created", targetType: "staff", targetId: id });
  expect(created).toHaveLength(1);
  expect(created[0]).toMatchObject({ actor_name: "admin@demo.tokendesk.dev", details: { email, role: "qa" } });

  const member = await signedInContext(browser, baseURL!, email, "first password 123");
  const memberPage = await member.newPage();
  await memberPage.goto("/");
  await expect(memberPage.getByTestId("staff-identity")).toContainText("QA");
  await expect(memberPage.getByTestId("staff-identity")).toContainText("Sandbox only");
  await member.close();
});

test("a role change ends the member's session; signing in again gives the new role's console", async ({ page, browser, baseURL }) => {
  const email = `${unique("role-change")}@e2e.test`;
  const id = await createStaffViaUi(page, { email, role: "support", password: "role change password" });
  const member = await signedInContext(browser, baseURL!, email, "role change password");
  const memberPage = await member.newPage();
  await memberPage.goto("/");
  await expect(memberPage.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Audit log" })).toHaveCount(0);

  const row = page.getByTestId(`staff-row-${email}`);
  await row.locator('select[name="role"]').selectOption("auditor");
  await row.getByRole("button", { name: "Save role" }).click();
  await expect(row.getByRole("status")).toHaveText(`${email} is now auditor.`);

  await memberPage.reload();
  await expect(memberPage).toHaveURL(/\/login\?error=SessionEnded$/);
  await expect(memberPage.getByRole("main").getByRole("alert")).toHaveText(SESSION_ENDED);
  await signInWithForm(memberPage, email, "role change password");
  await expect(memberPage.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Audit log" })).toBeVisible();
  await expect(memberPage.getByTestId("staff-identity")).toContainText("Auditor");
  await member.close();

  const changed = await auditEvents(baseURL!, { action: "staff.role_changed", targetType: "staff", targetId: id });
  expect(changed.map((e) => e.details)).toEqual([{ email, from: "support", to: "auditor" }]);
});

test("disabling refuses the member's existing session on its next request, and enabling lets them back", async ({ page, browser, baseURL }) => {
  const email = `${unique("disable")}@e2e.test`;
  const id = await createStaffViaUi(page, { email, role: "support", password: "disable me password" });
  const member = await signedInContext(browser, baseURL!, email, "disable me password");
  const memberPage = await member.newPage();
  await memberPage.goto("/");
  await expect(memberPage.getByTestId("staff-identity")).toContainText(email);

  // Disabling asks first and wants a reason (issue 14, point 11): cancelling changes nothing.
  const row = page.getByTestId(`staff-row-${email}`);
  await row.getByRole("button", { name: "Disable" }).click();
  const confirm = page.getByRole("dialog", { name: `Disable ${email}?` });
  await expect(confirm).toContainText("signed out everywhere");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toContainText("Active");
  await row.getByRole("button", { name: "Disable" }).click();
  await confirm.getByRole("button", { name: "Disable member" }).click();
  await expect(confirm.getByLabel("Reason")).toBeFocused(); // required before anything happens
  await expect(row).toContainText("Active");
  await confirm.getByLabel("Reason").fill("Left the team, ticket 3310");
  await confirm.getByRole("button", { name: "Disable member" }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toContainText("Disabled");
  await expect(page.getByRole("status").filter({ hasText: "is disabled" })).toHaveText(`${email} is disabled and signed out everywhere.`);

  // The member's open console: the next navigation is refused with a sentence, not a 500.
  const res = await memberPage.goto("/");
  expect(res!.status()).toBeLessThan(500);
  await expect(memberPage).toHaveURL(/\/login\?error=SessionEnded$/);
  await expect(memberPage.getByRole("main").getByRole("alert")).toHaveText(SESSION_ENDED);
  await snap(memberPage, "login-session-ended");
  await signInWithForm(memberPage, email, "disable me password");
  await expect(memberPage.getByRole("main").getByRole("alert")).toHaveText("This account is disabled. Ask an admin to enable it.");

  await page.getByTestId(`staff-row-${email}`).getByRole("button", { name: "Enable" }).click();
  const enable = page.getByRole("dialog", { name: `Enable ${email}?` });
  await enable.getByLabel("Reason").fill("Back from leave");
  await enable.getByRole("button", { name: "Enable member" }).click();
  await expect(page.getByTestId(`staff-row-${email}`)).toContainText("Active");
  await signInWithForm(memberPage, email, "disable me password");
  await expect(memberPage.getByTestId("staff-identity")).toContainText(email);
  await member.close();

  const changes = await auditEvents(baseURL!, { action: "staff.", targetType: "staff", targetId: id });
  expect(changes.map((e) => e.action).reverse()).toEqual([
    "staff.created",
    "staff.signed_in",
    "staff.disabled",
    "staff.sign_in_failed",
    "staff.enabled",
    "staff.signed_in",
  ]);
  expect(changes.find((e) => e.action === "staff.disabled")!.reason).toBe("Left the team, ticket 3310");
  expect(changes.find((e) => e.action === "staff.enabled")!.reason).toBe("Back from leave");
});

test("resetting a password ends the member's sessions; only the new password works", async ({ page, browser, baseURL }) => {
  const email = `${unique("reset")}@e2e.test`;
  const id = await createStaffViaUi(page, { email, role: "support", password: "the old password" });
  const member = await signedInContext(browser, baseURL!, email, "the old password");
  const memberPage = await member.newPage();

  await page.getByTestId(`staff-row-${email}`).getByRole("button", { name: "Reset password" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(`Reset the password of ${email}`);
  await snap(page, "staff-reset-dialog");
  await dialog.getByLabel("New password").fill("the new password");
  await dialog.getByRole("button", { name: "Set password" }).click();
  await expect(dialog.getByRole("status")).toHaveText(`Password of ${email} reset; their other sessions have ended.`);

  await memberPage.goto("/");
  await expect(memberPage).toHaveURL(/\/login\?error=SessionEnded$/);
  await signInWithForm(memberPage, email, "the old password");
  await expect(memberPage.getByRole("main").getByRole("alert")).toHaveText("The email or password is not right.");
  await signInWithForm(memberPage, email, "the new password");
  await expect(memberPage.getByTestId("staff-identity")).toContainText(email);
  await member.close();

  const resets = await auditEvents(baseURL!, { action: "staff.password_reset", targetType: "staff", targetId: id });
  expect(resets).toHaveLength(1);
  expect(JSON.stringify(resets)).not.toContain("the new password");
});

test("an admin cannot disable themselves: no button, and the server refuses it", async ({ page, baseURL }) => {
  await page.goto("/staff");
  const self = page.getByTestId("staff-row-admin@demo.tokendesk.dev");
  await expect(self.getByRole("button", { name: "Disable" })).toHaveCount(0);
  const id = await self.locator('input[name="id"]').first().inputValue();
  const before = await auditEvents(baseURL!, { targetType: "staff", targetId: id });
  const reply = await postActionAs(baseURL!, "admin", {
    file: "app/(console)/staff/actions.ts",
    name: "setDisabledAction",
    page: "/staff",
    fields: { id, disabled: "true", reason: "disabling myself" },
  });
  expect(reply.answer).toEqual({ ok: false, code: "self_disable", error: "You cannot disable yourself." });
  // Nothing changed: no event about the admin, and the admin's session still opens the page.
  expect(await auditEvents(baseURL!, { targetType: "staff", targetId: id })).toEqual(before);
  await page.reload();
  await expect(page.getByTestId("staff-row-admin@demo.tokendesk.dev")).toContainText("Active");
});
