/** Unknown routes and malformed sign-in posts get a page or a sentence, never a 500. */
import { expect, test } from "@playwright/test";
import { auditEvents, authFile, snap } from "./fixtures";

test("an unknown route shows the 404 page", async ({ page }) => {
  const res = await page.goto("/no/such/page");
  expect(res!.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("This page does not exist");
  await snap(page, "404");
});

test.describe("signed in", () => {
  test.use({ storageState: authFile("support") });
  test("an unknown console route shows the 404 page too", async ({ page }) => {
    const res = await page.goto("/staff/nothing-here");
    expect(res!.status()).toBe(404);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("This page does not exist");
  });
});

test.describe("malformed posts to the credentials callback", () => {
  test("a form post without a CSRF token lands on the sign-in page with a sentence, signing nobody in", async ({ page, baseURL }) => {
    const res = await page.request.post("/api/auth/callback/credentials", {
      form: { email: "admin@demo.tokendesk.dev", password: "demo-admin-password" },
      maxRedirects: 0,
    });
    expect(res.status()).toBeLessThan(400);
    expect(res.headers().location).toBe(`${baseURL}/login?error=CsrfInvalid`);
    await page.goto(res.headers().location!);
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("The sign-in form had expired or did not come from this console. Sign in again.");
    expect((await (await page.request.get("/api/auth/session")).json()) as object).toEqual({});
  });

  test("an unreadable body gets a sentence, not a 500, and is not counted as a sign-in attempt", async ({ page, baseURL }) => {
    const before = (await auditEvents(baseURL!, { action: "staff.sign_in_failed" })).length;
    const json = await page.request.post("/api/auth/callback/credentials", {
      headers: { "content-type": "application/json" },
      data: Buffer.from('{"email": '),
      maxRedirects: 0,
    });
    expect(json.status()).toBe(400);
    expect(await json.json()).toEqual({ error: { code: "bad_request", message: "The sign-in request could not be read." } });

    const multipart = await page.request.post("/api/auth/callback/credentials", {
      headers: { "content-type": "multipart/form-data; boundary=nothing" },
      data: "this is not multipart",
      maxRedirects: 0,
    });
    expect(multipart.status()).toBe(303);
    await page.goto(multipart.headers().location!);
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("The sign-in request could not be read. Use the form below to sign in.");
    expect((await auditEvents(baseURL!, { action: "staff.sign_in_failed" })).length).toBe(before);
  });
});
