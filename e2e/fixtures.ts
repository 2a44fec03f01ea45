/**
 * Shared helpers of the end-to-end specs: who the demo staff are, where each role's signed-in
 * storageState lives, signing in through next-auth's API, and reading the audit log as an admin to
 * check what did (or did not) happen.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type APIRequestContext, type Browser, type BrowserContext, expect, type Page, request as playwrightRequest } from "@playwright/test";
import { PNG } from "pngjs";
import { DEMO_STAFF } from "@/lib/demo/staff";
import type { StaffRole } from "@/lib/staff/rbac";
import { type ActionCall, type ActionReply, callAction } from "../tests/helpers/server-action";

export { DEMO_STAFF };

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROLES = DEMO_STAFF.map((s) => s.role);

export const demo = (role: StaffRole) => DEMO_STAFF.find((s) => s.role === role)!;

/**
 * e2e/.auth/<port>/<role>.json: written by auth.setup.ts, gitignored. Per port, because engineers
 * run their specs against their own servers from the same working tree at the same time, and one
 * run's setup must not overwrite another's signed-in sessions.
 */
export const authFile = (role: StaffRole) => path.join(here, ".auth", process.env.E2E_PORT ?? "3210", `${role}.json`);

/** Unique enough for names and emails across runs and parallel workers. */
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;

/**
 * Signs in through next-auth's credentials endpoint, as the login form does, without the form.
 * Returns the URL next-auth sent the browser to (the console, or /login?error=...).
 */
export async function signInThroughApi(api: APIRequestContext, email: string, password: string): Promise<string> {
  const csrf = await api.get("/api/auth/csrf");
  expect(csrf.ok()).toBe(true);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const res = await api.post("/api/auth/callback/credentials", {
    form: { csrfToken, email, password, callbackUrl: "/", json: "true" },
    maxRedirects: 0,
  });
  expect(res.status(), `sign-in of ${email} answered ${res.status()}`).toBeLessThan(500);
  const body = res.headers()["content-type"]?.includes("json") ? ((await res.json()) as { url?: string }) : {};
  return body.url ?? res.headers().location ?? "";
}

/**
 * A failed sign-in sent from another loopback address (127.0.0.2, 127.0.0.3, …; Linux routes all of
 * 127/8 to this machine), as a different client on the internet would: tokendesk audits unknown-email
 * failures once per address and 10 minutes and limits failures per address, so specs that need many
 * such events send each from its own address and leave 127.0.0.1's budget to the other specs.
 * Returns the URL next-auth sent the client to (/login?error=...).
 */
export async function failSignInFrom(baseURL: string, localAddress: string, email: string): Promise<string> {
  const { port } = new URL(baseURL);
  const send = (method: string, pathname: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, localAddress, method, path: pathname, headers: { host: `localhost:${port}`, ...headers } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on("error", reject);
      req.end(body);
    });
  const csrf = await send("GET", "/api/auth/csrf", {});
  expect(csrf.status).toBe(200);
  const cookie = (csrf.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
  const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
  const form = new URLSearchParams({ csrfToken, email, password: "no such account here", callbackUrl: "/", json: "true" }).toString();
  const res = await send(
    "POST",
    "/api/auth/callback/credentials",
    { cookie, "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(form)) },
    form,
  );
  expect(res.status, `sign-in of ${email} from ${localAddress} answered ${res.status}`).toBeLessThan(500);
  if (res.headers["content-type"]?.includes("json")) return (JSON.parse(res.body) as { url?: string }).url ?? "";
  return res.headers.location ?? "";
}

/** A browser context signed in as `email` (a fresh session, not a saved one). */
export async function signedInContext(browser: Browser, baseURL: string, email: string, password: string): Promise<BrowserContext> {
  const api = await playwrightRequest.newContext({ baseURL });
  const landed = await signInThroughApi(api, email, password);
  expect(landed, `sign-in of ${email} failed`).not.toContain("error=");
  const state = await api.storageState();
  await api.dispose();
  return browser.newContext({ storageState: state });
}

export interface ExportedEvent {
  id: string;
  occurred_at: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  reason: string | null;
  details: Record<string, unknown>;
}

/** Audit events matching `filter`, read through the NDJSON export as the demo admin. */
export async function auditEvents(baseURL: string, filter: Record<string, string>): Promise<ExportedEvent[]> {
  const api = await playwrightRequest.newContext({ baseURL, storageState: authFile("admin") });
  try {
    const res = await api.get(`/audit/export?${new URLSearchParams({ format: "ndjson", ...filter })}`);
    expect(res.status()).toBe(200);
    const text = await res.text();
    return text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ExportedEvent);
  } finally {
    await api.dispose();
  }
}

/** Adds a staff member through the admin's staff page and waits for the confirmation. */
export async function createStaffViaUi(page: Page, member: { email: string; role: StaffRole; password: string; name?: string }): Promise<string> {
  await page.goto("/staff");
  const form = page.getByRole("form", { name: "Add a staff member" });
  await form.getByLabel("Email").fill(member.email);
  if (member.name) await form.getByLabel("Name").fill(member.name);
  await form.getByLabel("Role").selectOption(member.role);
  await form.getByLabel("Initial password").fill(member.password);
  await form.getByRole("button", { name: "Add staff member" }).click();
  await expect(form.getByRole("status")).toContainText(`${member.email} can now sign in as ${member.role}.`);
  const row = page.getByTestId(`staff-row-${member.email}`);
  await expect(row).toBeVisible();
  return row.locator('input[name="id"]').first().inputValue();
}

/** A full-page screenshot under test-results/screens/, for looking at layouts after a run. */
export async function snap(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(here, "..", "test-results", "screens", `${name}.png`), fullPage: true });
}

/** The token-exchange grant as an SDK sends it (RFC 8693, with tokendesk's sign-in token type). */
export const EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
export const SIGN_IN_TOKEN_TYPE = "urn:tokendesk:params:oauth:token-type:sign-in-token";

/** An admin creates a key in the console and reads it from the one-time dialog. */
export async function createKeyInConsole(browser: Browser, name: string, environment: "sandbox" | "production" = "sandbox"): Promise<string> {
  const context = await browser.newContext({ storageState: authFile("admin") });
  const page = await context.newPage();
  await page.goto("/api-keys");
  await page.getByRole("button", { name: "Create API key" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByLabel("Environment").selectOption(environment);
  await dialog.getByLabel("All scopes").check();
  await dialog.getByRole("button", { name: "Create key" }).click();
  const key = await dialog.getByTestId("api-key-secret").inputValue();
  await context.close();
  return key;
}

/** A small, real PNG (a gradient), as a phone camera would hand over a file. */
export function photo(seed: number): Buffer {
  const png = new PNG({ width: 64, height: 48 });
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (png.width * y + x) << 2;
      png.data[i] = (x * 4 + seed) & 255;
      png.data[i + 1] = (y * 5 + seed * 3) & 255;
      png.data[i + 2] = 160;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** Takes one photo step of the mobile IDV flow with a generated image. */
export async function takePhoto(phone: Page, seed: number) {
  const progress = phone.getByTestId("mobile-progress");
  const step = await progress.textContent();
  await phone.locator('input[type="file"]').setInputFiles({ name: `photo-${seed}.png`, mimeType: "image/png", buffer: photo(seed) });
  await expect(phone.getByRole("img", { name: "Your photo" })).toBeVisible();
  await phone.getByRole("button", { name: "Use this photo" }).click();
  // The next step renders once the upload is answered, as a person sees it: wait for it, or a
  // second takePhoto hands its file to this step's input, which is about to go.
  await expect(progress).not.toHaveText(step ?? "");
}

/**
 * Posts a server action the way the role's browser would (its saved session cookie), whether or not
 * its console shows the button: what a crafted request gets.
 */
export async function postActionAs(baseURL: string, role: StaffRole, call: ActionCall): Promise<ActionReply> {
  const state = JSON.parse(fs.readFileSync(authFile(role), "utf8")) as { cookies: Array<{ name: string; value: string }> };
  return callAction(baseURL, state.cookies.map((c) => `${c.name}=${c.value}`).join("; "), call);
}
