/**
 * Settings: an admin changes the sign-in token lifetime; an invalid value gets the server's
 * sentence and changes nothing; the change is in the audit log as settings.changed.
 */
import { expect, test } from "@playwright/test";
import { auditEvents, authFile, snap } from "./fixtures";

test.use({ storageState: authFile("admin") });

test("admin changes the production sign-in token lifetime; invalid values get the server's sentence", async ({ page, baseURL }) => {
  await page.goto("/settings");
  const form = page.getByRole("form", { name: "production lifetimes" });
  const lifetime = form.getByLabel("Sign-in token lifetime (seconds)");
  await expect(lifetime).toHaveValue("600");
  await expect(form.getByTestId("production-signInTokenTtlSeconds-words")).toHaveText("= 10 minutes");
  await snap(page, "settings");

  await lifetime.fill("5");
  await form.getByRole("button", { name: "Save production lifetimes" }).click();
  await expect(form.getByRole("alert")).toHaveText("Sign-in token lifetime must be at least 60 seconds.");
  await expect(lifetime).toHaveAttribute("aria-invalid", "true");
  await lifetime.fill("100000");
  await form.getByRole("button", { name: "Save production lifetimes" }).click();
  await expect(form.getByRole("alert")).toHaveText("Sign-in token lifetime must be at most 86400 seconds (a day).");
  await snap(page, "settings-invalid");
  expect(await auditEvents(baseURL!, { action: "settings.changed", targetId: "production" })).toEqual([]);

  await lifetime.fill("900");
  await expect(form.getByTestId("production-signInTokenTtlSeconds-words")).toHaveText("= 15 minutes");
  await form.getByRole("button", { name: "Save production lifetimes" }).click();
  await expect(form.getByRole("status")).toContainText("Saved the production lifetimes.");
  await page.reload();
  await expect(page.getByRole("form", { name: "production lifetimes" }).getByLabel("Sign-in token lifetime (seconds)")).toHaveValue("900");

  const changed = await auditEvents(baseURL!, { action: "settings.changed", targetId: "production" });
  expect(changed).toHaveLength(1);
  expect(changed[0]).toMatchObject({ actor_name: "admin@demo.tokendesk.dev", details: { changes: { signInTokenTtlSeconds: { from: 600, to: 900 } } } });

  // The audit log page shows it too.
  await page.goto("/audit?action=settings.changed");
  await expect(page.getByTestId("audit-row").first()).toContainText("Settings changed");

  // Put it back for whoever runs next on this database.
  await page.goto("/settings");
  await page.getByRole("form", { name: "production lifetimes" }).getByLabel("Sign-in token lifetime (seconds)").fill("600");
  await page.getByRole("form", { name: "production lifetimes" }).getByRole("button", { name: "Save production lifetimes" }).click();
  await expect(page.getByRole("form", { name: "production lifetimes" }).getByRole("status")).toContainText("Saved");
});

test("admin rotates the signing key after confirming", async ({ page, baseURL }) => {
  await page.goto("/settings");
  // The server makes its first key at start-up, so there is always a current one to rotate from.
  const current = page.getByTestId("signing-key-current").locator("td").first();
  await expect(current).toHaveText(/\S/);
  const before = (await current.textContent())!.trim();
  await page.getByRole("button", { name: "Rotate now" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Rotate signing key" }).click();
  await expect(page.getByRole("status").filter({ hasText: "New tokens are signed with" })).toBeVisible();
  await expect(current).not.toHaveText(before);
  const after = (await current.textContent())!.trim();
  await expect(page.getByTestId("signing-key-previous").filter({ hasText: before })).toContainText("Verifies older tokens");
  const jwks = (await (await page.request.get("/.well-known/jwks.json")).json()) as { keys: Array<{ kid: string }> };
  expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining([after, before]));
  await snap(page, "settings-rotated");
  const rotated = await auditEvents(baseURL!, { action: "signing_key.rotated", targetId: after });
  expect(rotated).toEqual([
    expect.objectContaining({ actor_name: "admin@demo.tokendesk.dev", details: expect.objectContaining({ kid: after, previousKid: before }) }),
  ]);
});
