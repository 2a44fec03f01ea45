/**
 * Issue 14, point 1: no form loses what was typed. After the server refuses (a taken email, or
 * fields the browser's own checks would have caught), every field keeps its value, the role select
 * keeps the chosen role, and each field shows its own sentence — all of them at once.
 * (The API key dialog's scope refusal is in api-keys.spec.ts.)
 */
import { expect, test } from "@playwright/test";
import { authFile, demo, unique } from "./fixtures";

test.use({ storageState: authFile("admin") });

test("adding a staff member keeps every field after a refusal and says each problem at its field", async ({ page }) => {
  await page.goto("/staff");
  const form = page.getByRole("form", { name: "Add a staff member" });
  const errorOf = (id: string) => form.locator(`div:has(> #${id}) [role="alert"]`);
  // The browser checks what it can before sending: the constraints mirror the server's.
  await expect(form.getByLabel("Initial password")).toHaveAttribute("minlength", "12");
  await expect(form.getByLabel("Email")).toHaveAttribute("type", "email");

  await form.getByLabel("Email").fill(demo("auditor").email);
  await form.getByLabel("Name").fill("Taken Email");
  await form.getByLabel("Role").selectOption("auditor");
  await form.getByLabel("Initial password").fill("a long enough password");
  await form.getByRole("button", { name: "Add staff member" }).click();
  await expect(errorOf("new-email")).toHaveText(`A staff member with the email ${demo("auditor").email} already exists.`);
  await expect(form.getByLabel("Email")).toHaveValue(demo("auditor").email);
  await expect(form.getByLabel("Name")).toHaveValue("Taken Email");
  await expect(form.getByLabel("Role")).toHaveValue("auditor");
  await expect(form.getByLabel("Initial password")).toHaveValue("a long enough password");

  // What the server says when the browser's checks are skipped: every field's sentence at once.
  await form.evaluate((f: HTMLFormElement) => {
    f.noValidate = true;
  });
  await form.getByLabel("Email").fill("not an email");
  await form.getByLabel("Initial password").fill("short");
  await form.getByRole("button", { name: "Add staff member" }).click();
  await expect(errorOf("new-email")).toHaveText("Email must be an email address.");
  await expect(errorOf("new-password")).toHaveText("Password must be at least 12 characters.");
  await expect(form.getByLabel("Role")).toHaveValue("auditor");
  await expect(form.getByLabel("Name")).toHaveValue("Taken Email");

  // Fixed, it goes through.
  const email = `${unique("forms")}@e2e.test`;
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Initial password").fill("a long enough password");
  await form.getByRole("button", { name: "Add staff member" }).click();
  await expect(form.getByRole("status")).toContainText(`${email} can now sign in as auditor.`);
  await expect(page.getByTestId(`staff-row-${email}`)).toContainText("Taken Email");
});
