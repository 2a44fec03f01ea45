/**
 * The IDV handoff as support and QA do it: support issues a handoff in the console; the test reads
 * the QR code off the screen (jsQR), opens it in a phone-emulated browser, takes every step with a
 * generated photo and submits; the support page turns to `submitted` by itself (no reload); an
 * auditor opens the session and sees what was captured; the link used again is no longer valid.
 */
import { devices, expect, type Page, test } from "@playwright/test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { auditEvents, authFile, demo, postActionAs, snap, takePhoto, unique } from "./fixtures";

async function readQr(page: Page, testId = "handoff-qr"): Promise<string | null> {
  const png = PNG.sync.read(await page.getByTestId(testId).screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}

test.describe("IDV handoff", () => {
  test.use({ storageState: authFile("support") });

  test("support issues a handoff, a phone completes it from the QR code, the console follows live, an auditor sees the capture", async ({
    page,
    browser,
    baseURL,
  }) => {
    const externalUserId = unique("idv-e2e");
    await page.goto("/handoffs");
    await expect(page.getByRole("heading", { name: "IDV handoffs" })).toBeVisible();
    await expect(page.getByText("Phones cannot reach this address")).toBeVisible(); // PUBLIC_URL is localhost here

    const form = page.getByRole("form", { name: "Issue IDV handoff" });
    await form.getByLabel("External user id", { exact: true }).fill(externalUserId);
    await form.getByLabel("Environment").selectOption("sandbox");
    await form.getByLabel("Workflow").selectOption({ label: "Full KYC: ID, selfie and details" });
    await form.getByLabel("Lifetime").selectOption({ label: "30 minutes" });
    await form.getByLabel("Reason").fill("e2e: customer verifying on the phone");
    await form.getByRole("button", { name: "Issue handoff" }).click();

    const live = page.getByTestId("handoff-live");
    await expect(live).toBeVisible();
    await expect(live.getByTestId("handoff-status")).toHaveText("created");
    await expect(live.getByTestId("handoff-countdown")).toContainText("expires in");
    const sessionId = (await live.getAttribute("data-session-id"))!;
    const fullUrl = await live.getByTestId("handoff-url").inputValue();
    expect(fullUrl.startsWith(`${baseURL}/capture?url=${encodeURIComponent(`${baseURL}/mobile?authorization=et_`)}`)).toBe(true);
    expect(fullUrl.endsWith(encodeURIComponent(`&sessionId=${sessionId}`))).toBe(true);
    await snap(page, "idv-console-issued");
    // Marks this document: if the page reloaded, the mark would be gone.
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    const scanned = await readQr(page);
    expect(scanned).toMatch(new RegExp(`^${baseURL}/h/[A-Za-z0-9_-]{22}$`));

    // The full URL opened on a desktop shows a QR code of the same short link.
    const desk = await page.context().newPage();
    await desk.goto(fullUrl);
    await expect(desk.getByRole("heading", { name: "Continue on your phone" })).toBeVisible();
    expect(await readQr(desk, "capture-qr")).toBe(scanned);
    await snap(desk, "idv-capture-desktop");
    await desk.close();

    const phoneContext = await browser.newContext({ ...devices["Pixel 7"], storageState: undefined });
    const phone = await phoneContext.newPage();
    await phone.goto(scanned!);
    await expect(phone).toHaveURL(/\/mobile\?authorization=et_/);
    await expect(phone.getByTestId("mobile-progress")).toHaveText("Step 1 of 3");
    await snap(phone, "idv-mobile-step1");

    await takePhoto(phone, 1);
    await expect(phone.getByTestId("mobile-progress")).toHaveText("Step 2 of 3");
    await expect(live.getByTestId("handoff-status")).toHaveText("in progress");

    await takePhoto(phone, 2);
    await expect(phone.getByTestId("mobile-progress")).toHaveText("Step 3 of 3");
    await phone.getByRole("button", { name: "Continue" }).click();
    await expect(phone.getByText("Full name is required.")).toBeVisible();
    await phone.getByLabel("Full name").fill("Ada Lovelace");
    await phone.getByLabel("Date of birth").fill("1815-12-10");
    await phone.getByLabel("Email (optional)").fill("ada@example.com");
    await snap(phone, "idv-mobile-form");
    await phone.getByRole("button", { name: "Continue" }).click();

    await expect(phone.getByTestId("mobile-progress")).toHaveText("Ready to submit");
    await phone.getByRole("button", { name: "Submit verification" }).click();
    await expect(phone.getByTestId("mobile-done")).toContainText("Thank you, you are done");
    await snap(phone, "idv-mobile-done");

    await expect(live.getByTestId("handoff-status")).toHaveText("submitted");
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    await snap(page, "idv-console-submitted");

    // The same link again, as the person might open it from their history.
    await phone.goto(scanned!);
    await expect(phone.getByTestId("link-problem")).toContainText("This link is no longer valid");
    await expect(phone.getByRole("button")).toHaveCount(0);
    await phone.goto(fullUrl);
    await expect(phone.getByTestId("link-problem")).toContainText("This link is no longer valid");
    await snap(phone, "idv-mobile-used");
    await phoneContext.close();

    const auditorContext = await browser.newContext({ storageState: authFile("auditor") });
    const auditor = await auditorContext.newPage();
    await auditor.goto(`/handoffs?status=submitted`);
    await expect(auditor.getByRole("form", { name: "Issue IDV handoff" })).toHaveCount(0);
    // Not offered, and refused when forced: no handoff is issued for the auditor.
    const forced = await postActionAs(baseURL!, "auditor", {
      file: "app/(console)/handoffs/actions.ts",
      name: "issueHandoffAction",
      page: "/handoffs",
      fields: { externalUserId: `${externalUserId}-auditor`, environment: "sandbox", workflowId: "wf_id_and_selfie", ttl: "3600", reason: "auditor trying" },
    });
    expect(forced.answer).toEqual({ ok: false, code: "forbidden", error: "The Auditor role may not do this." });
    expect(await auditEvents(baseURL!, { action: "idv_session.", actor: "auditor@demo.tokendesk.dev" })).toEqual([]);
    const listed = auditor.locator(`[data-testid="handoff-row"][data-session-id="${sessionId}"]`);
    // Who issued it, by name (issue 14, point 6), the id on hover.
    const issuer = listed.getByTestId("handoff-issued-by");
    await expect(issuer).toHaveText(demo("support").name);
    const supportId = (await issuer.getAttribute("data-actor-id"))!;
    await expect(issuer.locator("[title]")).toHaveAttribute("title", `${demo("support").email} · ${supportId}`);
    await listed.getByRole("link").click();
    await expect(auditor.getByTestId("detail-status")).toHaveText("submitted");
    await expect(auditor.getByTestId("detail-issued-by")).toContainText(demo("support").name);
    await expect(auditor.getByTestId("detail-issued-by")).toContainText(demo("support").email);
    await expect(auditor.getByTestId("detail-issued-by")).toContainText(supportId);
    await expect(auditor.getByText(externalUserId).first()).toBeVisible();
    const formStep = auditor.locator('[data-testid="captured-step"][data-step="form"]');
    await expect(formStep.locator('[data-field="fullName"]')).toHaveText("Ada Lovelace");
    await expect(formStep.locator('[data-field="dateOfBirth"]')).toHaveText("1815-12-10");
    for (const step of ["document", "selfie"]) {
      const img = auditor.locator(`[data-testid="captured-step"][data-step="${step}"] img`);
      await expect(img).toBeVisible();
      await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(64);
    }
    await snap(auditor, "idv-auditor-detail");
    await auditorContext.close();

    // Captured images are for signed-in staff only.
    const anonymous = await browser.newContext({ storageState: undefined });
    const res = await anonymous.request.get(`/api/console/handoffs/${sessionId}/images/document`);
    expect(res.status()).toBe(401);
    await anonymous.close();
  });

  test("cancel expires a live handoff at once; the phone is told in plain words", async ({ page, browser }) => {
    await page.goto("/handoffs");
    const form = page.getByRole("form", { name: "Issue IDV handoff" });
    await form.getByLabel("External user id", { exact: true }).fill(unique("idv-cancel"));
    await form.getByLabel("Reason").fill("e2e: will be cancelled");
    await form.getByRole("button", { name: "Issue handoff" }).click();
    const live = page.getByTestId("handoff-live");
    const scanned = await (async () => {
      await expect(live.getByTestId("handoff-qr")).toBeVisible();
      return readQr(page);
    })();
    await live.getByRole("link", { name: "Open this handoff →" }).click();
    const cancel = page.getByRole("form", { name: "Cancel handoff" });
    await cancel.getByLabel("Reason for cancelling").fill("sent to the wrong person");
    await cancel.getByRole("button", { name: "Cancel handoff (expire now)" }).click();
    await expect(page.getByText("This handoff was cancelled: its link no longer works.")).toBeVisible();
    await expect(page.getByTestId("detail-status")).toHaveText("cancelled");

    const phoneContext = await browser.newContext({ ...devices["Pixel 7"], storageState: undefined });
    const phone = await phoneContext.newPage();
    await phone.goto(scanned!);
    await expect(phone.getByTestId("link-problem")).toContainText("This link is no longer valid");
    await phoneContext.close();
  });
});

test.describe("handoffs as people use them (issue 14, point 10)", () => {
  test.use({ storageState: authFile("support"), viewport: { width: 1280, height: 720 } });

  test("the issued handoff comes into view with focus and stays until dismissed; the phone checks dates, shows the values and the reason for a refused photo", async ({
    page,
    browser,
  }) => {
    await page.goto("/handoffs");
    const form = page.getByRole("form", { name: "Issue IDV handoff" });
    await form.getByLabel("External user id", { exact: true }).fill(unique("idv-result"));
    await form.getByLabel("Environment").selectOption("sandbox");
    await form.getByLabel("Workflow").selectOption({ label: "Full KYC: ID, selfie and details" });
    await form.getByLabel("Reason").fill("e2e: the result stays");
    await form.getByRole("button", { name: "Issue handoff" }).click();

    const result = page.getByTestId("handoff-issued");
    await expect(page.getByRole("heading", { name: "Handoff issued" })).toBeFocused();
    await expect(page.getByTestId("handoff-qr")).toBeInViewport({ ratio: 1 });
    // No form beside it inviting a second issue of the same handoff.
    await expect(form).toHaveCount(0);
    const mobileUrl = new URL(await result.getByTestId("handoff-url").inputValue()).searchParams.get("url")!;
    await page.getByRole("button", { name: "Issue another handoff" }).click();
    await expect(result).toHaveCount(0);
    await expect(form.getByLabel("External user id", { exact: true })).toBeFocused();
    await expect(form.getByLabel("External user id", { exact: true })).toHaveValue("");
    await expect(form.getByLabel("Workflow").locator("option:checked")).toHaveText("Full KYC: ID, selfie and details");

    // For a tokendesk user: found by name, not by a pasted UUID.
    await form.getByLabel("A tokendesk user").check();
    await form.getByLabel("User", { exact: true }).fill("Sofia");
    await form.getByTestId("user-pick").filter({ hasText: "Sofia Rossi" }).first().click();
    await expect(form.getByTestId("picked-user")).toContainText("Sofia Rossi");
    await expect(form.getByTestId("picked-user")).toContainText("sofia.rossi@example.com");
    const sofiaId = await form.locator('input[name="userId"]').inputValue();
    expect(sofiaId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    await form.getByLabel("Reason").fill("e2e: picked by name");
    await form.getByRole("button", { name: "Issue handoff" }).click();
    await expect(page.getByTestId("handoff-issued")).toBeVisible();
    // The list names the person, never her id; the id is on hover, and her name leads to her page (point 6).
    const person = page.locator(`[data-testid="handoff-person"][data-user-id="${sofiaId}"]`).first();
    await expect(person.getByRole("link")).toHaveText("Sofia Rossi");
    await expect(person.getByRole("link")).toHaveAttribute("title", new RegExp(sofiaId));
    await expect(person).not.toContainText(sofiaId);

    const phoneContext = await browser.newContext({ ...devices["Pixel 7"], storageState: { cookies: [], origins: [] } });
    const phone = await phoneContext.newPage();
    await phone.goto(mobileUrl);
    // A file that is no picture at all: the reason, not a broken image.
    await phone.locator('input[type="file"]').setInputFiles({ name: "scan.png", mimeType: "image/png", buffer: Buffer.from("not an image at all") });
    await expect(phone.getByTestId("photo-problem")).toContainText("cannot be shown as a photo");
    await expect(phone.getByRole("img", { name: "Your photo" })).toHaveCount(0);
    await expect(phone.getByRole("button", { name: "Use this photo" })).toBeDisabled();
    // A picture the browser shows but tokendesk does not take (GIF): the server's reason, in its place.
    const gif = Buffer.from("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b", "hex");
    await phone.locator('input[type="file"]').setInputFiles({ name: "photo.gif", mimeType: "image/gif", buffer: gif });
    await expect(phone.getByRole("img", { name: "Your photo" })).toBeVisible();
    await phone.getByRole("button", { name: "Use this photo" }).click();
    await expect(phone.getByTestId("photo-problem")).toContainText("not a JPEG, PNG, WebP or HEIC image");
    await expect(phone.getByTestId("mobile-progress")).toHaveText("Step 1 of 3");

    await takePhoto(phone, 3);
    await takePhoto(phone, 4);
    await phone.getByLabel("Full name").fill("Grace Hopper");
    await phone.getByLabel("Date of birth").fill("2999-01-01");
    await phone.getByRole("button", { name: "Continue" }).click();
    await expect(phone.getByText("Date of birth cannot be in the future.")).toBeVisible();
    await phone.getByLabel("Date of birth").fill("1906-12-09");
    await phone.getByRole("button", { name: "Continue" }).click();

    // The review shows what will be sent, not only ticks.
    await expect(phone.getByTestId("mobile-progress")).toHaveText("Ready to submit");
    const review = phone.getByTestId("mobile-review");
    await expect(review.locator('[data-field="fullName"]')).toHaveText("Grace Hopper");
    await expect(review.locator('[data-field="dateOfBirth"]')).toHaveText("1906-12-09");
    await expect(review.locator("li img")).toHaveCount(2);
    await phoneContext.close();

    // The handoff's page is "for" her by name too.
    await person.locator("xpath=ancestor::tr").getByRole("link", { name: / UTC$/ }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Handoff for Sofia Rossi");
  });
});

test.describe("QA", () => {
  test.use({ storageState: authFile("qa") });

  test("may issue in sandbox only", async ({ page }) => {
    await page.goto("/handoffs");
    const env = page.getByRole("form", { name: "Issue IDV handoff" }).getByLabel("Environment");
    await expect(env.locator("option")).toHaveText(["sandbox"]);
  });
});

test.describe("admin", () => {
  test.use({ storageState: authFile("admin") });

  test("creates a workflow that support can then pick", async ({ page }) => {
    const name = unique("Selfie only");
    await page.goto("/workflows");
    await expect(page.getByRole("row", { name: /Full KYC: ID, selfie and details/ })).toBeVisible();
    const form = page.getByRole("form", { name: "New workflow" });
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Steps").fill("selfie,bogus");
    await form.getByRole("button", { name: "Create workflow" }).click();
    await expect(form.getByRole("alert")).toContainText("Unknown step bogus");
    await form.getByLabel("Steps").fill("selfie");
    await form.getByRole("button", { name: "Create workflow" }).click();
    await expect(page.getByText(`Workflow "${name}" created`)).toBeVisible();
    await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("A selfie");
    await snap(page, "idv-workflows");
    await page.goto("/handoffs");
    await expect(page.getByRole("form", { name: "Issue IDV handoff" }).getByLabel("Workflow").locator("option", { hasText: name })).toHaveCount(1);
  });
});
