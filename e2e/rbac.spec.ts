/**
 * The page and route half of the RBAC matrix (e2e/rbac-matrix.ts PAGES and ROUTES), in Chromium:
 * each demo role and a browser with no session opens every page and calls every console route,
 * and gets exactly the matrix's literal cell — the page with its heading, the 403 or not-found
 * page, or the sign-in page; the route's status with its JSON error. Pages and routes that show one
 * environment's data are opened on a sandbox and a production fixture, made here through the
 * console's own actions and the machine API. (The server actions are the matrix's other half:
 * tests/http/rbac-actions.test.ts.)
 */
import fs from "node:fs";
import { type APIRequestContext, expect, type Page, test } from "@playwright/test";
import { E2E } from "../playwright.config";
import { callAction } from "../tests/helpers/server-action";
import { authFile, snap, unique } from "./fixtures";
import { PAGES, type PageEntry, ROUTES, type RouteEntry, WHO, type Who } from "./rbac-matrix";

/** Ids the matrix's URLs name as `:name`, created once for this file. */
const FIXTURES: Record<string, string> = {};

/** A 1×1 PNG: a captured "selfie" for the image route. */
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e7c9f60000000049454e44ae426082",
  "hex",
);

function cookieOf(role: Exclude<Who, "out">): string {
  const state = JSON.parse(fs.readFileSync(authFile(role), "utf8")) as { cookies: Array<{ name: string; value: string }> };
  return state.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

async function asAdmin<T>(file: string, name: string, page: string, fields: Record<string, string>): Promise<T> {
  const reply = await callAction(E2E.baseURL, cookieOf("admin"), { file, name, page, fields });
  expect(reply.answer, `${name} as admin`).toMatchObject({ ok: true });
  return (reply.answer as { data: T }).data;
}

async function api(path: string, init: RequestInit): Promise<any> {
  const res = await fetch(`${E2E.baseURL}${path}`, init);
  const text = await res.text();
  expect(res.status, `${path}: ${text}`).toBe(200);
  return JSON.parse(text);
}

async function createFixtures(env: "sandbox" | "production", label: string): Promise<void> {
  const { key } = await asAdmin<{ key: string }>("app/(console)/api-keys/actions.ts", "createApiKeyAction", "/api-keys", {
    name: unique(`rbac ${env}`),
    environment: env,
    region: "us",
    "scope:all": "on",
  });
  const user = await api("/v2/user", {
    method: "POST",
    headers: { "X-Vital-API-Key": key, "Content-Type": "application/json" },
    body: JSON.stringify({ client_user_id: unique(`rbac-${env}`), name: `Rbac ${label}` }),
  });
  FIXTURES[`${env}User`] = user.user_id;
  const issued = await asAdmin<{ tokenId: string }>("app/(console)/users/[id]/actions.ts", "issueSignInTokenAction", `/users/${user.user_id}`, {
    userId: user.user_id,
    reason: "rbac matrix fixture",
  });
  FIXTURES[`${env}SignInToken`] = issued.tokenId;

  const instance = await asAdmin<{ instanceId: string; instanceKey: string }>("app/(console)/instances/actions.ts", "createInstanceAction", "/instances", {
    name: unique(`rbac ${env}`),
    environment: env,
  });
  const registered = await api("/v1/Registration/create", {
    method: "POST",
    headers: { InstanceId: instance.instanceId, InstanceKey: instance.instanceKey, "Content-Type": "application/json" },
    body: JSON.stringify({ FirstName: "rbac-device", LastName: env }),
  });
  const jwt: string = registered.Result.AccessToken.Token;
  FIXTURES[`${env}Device`] = (JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as { sub: string }).sub;

  const handoff = await asAdmin<{ sessionId: string; url: string }>("app/(console)/handoffs/actions.ts", "issueHandoffAction", "/handoffs", {
    externalUserId: `rbac-handoff-${env}`,
    environment: env,
    workflowId: "wf_id_and_selfie",
    ttl: "3600",
    reason: "rbac matrix fixture",
  });
  FIXTURES[`${env}Handoff`] = handoff.sessionId;
  const token = new URL(new URL(handoff.url).searchParams.get("url")!).searchParams.get("authorization")!;
  const photo = new FormData();
  photo.append("image", new Blob([new Uint8Array(PNG)], { type: "image/png" }), "selfie.png");
  await api(`/api/sessions/${handoff.sessionId}/steps/selfie`, { method: "POST", headers: { Authorization: token }, body: photo });
}

test.beforeAll(async () => {
  await createFixtures("sandbox", "Sandbox");
  await createFixtures("production", "Production");
  const hook = await asAdmin<{ endpoint: { id: string } }>("app/(console)/webhooks/actions.ts", "createEndpointAction", "/webhooks", {
    url: "https://hooks.example.com/rbac",
    environment: "sandbox",
    "event:user.created": "on",
  });
  FIXTURES.webhookEndpoint = hook.endpoint.id;
});

function urlOf(template: string): string {
  return template.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const id = FIXTURES[name];
    if (!id) throw new Error(`e2e/rbac.spec.ts makes no fixture "${name}" (named by ${template})`);
    return id;
  });
}

async function expectHeading(page: Page, heading: PageEntry["heading"], where: string): Promise<void> {
  if (typeof heading === "object" && "text" in heading) await expect.soft(page.getByText(heading.text), where).toBeVisible();
  else await expect.soft(page.getByRole("heading", { level: 1 }), where).toHaveText(heading);
}

/** Opens one page as the current browser and checks the matrix's cell (soft: every cell is tried). */
async function checkPage(page: Page, who: Who, entry: PageEntry): Promise<void> {
  const cell = entry[who];
  const res = await page.goto(urlOf(entry.url));
  const where = `${entry.url} as ${who}`;
  if (cell === "shown") {
    expect.soft(res!.status(), where).toBe(200);
    await expectHeading(page, entry.heading, where);
  } else if (cell === 403) {
    expect.soft(res!.status(), where).toBe(403);
    await expect.soft(page.getByRole("heading", { level: 1 }), where).toHaveText("You don’t have access to this page");
    if (entry.url === "/staff") await snap(page, `403-${who}`);
  } else if (cell === 404) {
    expect.soft(res!.status(), where).toBe(404);
    await expect.soft(page.getByRole("heading", { level: 1 }), where).toHaveText("This page does not exist");
  } else if (cell === "sign-in") {
    // The page asked for comes back after sign-in (issue 14, point 3): it rides along as callbackUrl.
    const asked = new URL(urlOf(entry.url), E2E.baseURL);
    const back = `${asked.pathname}${asked.search}`;
    await expect.soft(page, where).toHaveURL(`${E2E.baseURL}/login${back === "/" ? "" : `?callbackUrl=${encodeURIComponent(back)}`}`);
  } else {
    await expect.soft(page, where).toHaveURL(`${E2E.baseURL}/`);
    await expect.soft(page.getByRole("heading", { level: 1 }), where).toHaveText(/^Hello, /);
  }
}

async function checkRoute(request: APIRequestContext, who: Who, entry: RouteEntry): Promise<void> {
  const status = entry[who];
  const where = `${entry.url} as ${who}`;
  const res = await request.get(urlOf(entry.url));
  expect.soft(res.status(), where).toBe(status);
  if (status >= 400) {
    expect.soft(res.headers()["cache-control"], where).toContain("no-store");
    expect.soft(await res.json(), where).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  }
}

// One browser per role walks every page and route (a test per page would spend most of its time
// opening browsers); each cell is a step and a soft assertion, so a failure names every wrong cell.
// The walks only read, so they spread over the workers (each worker makes its own fixtures): one
// worker walking all ten took 3.5 of npm test's e2e-postgres minutes while the other sat idle.
test.describe.configure({ mode: "parallel" });
for (const who of WHO) {
  test.describe(who === "out" ? "signed out" : `as ${who}`, () => {
    if (who !== "out") test.use({ storageState: authFile(who) });

    test(`every page: ${PAGES.length} cells`, async ({ page }) => {
      test.setTimeout(PAGES.length * 15_000);
      for (const entry of PAGES) {
        await test.step(`${entry.url}${entry.data === "-" ? "" : ` (${entry.data})`}: ${entry[who]}`, () => checkPage(page, who, entry));
      }
    });

    test(`every console route: ${ROUTES.length} cells`, async ({ page, playwright }) => {
      // Signed out: a request context with no cookie at all.
      const request = who === "out" ? await playwright.request.newContext({ baseURL: E2E.baseURL }) : page.request;
      for (const entry of ROUTES) {
        await test.step(`${entry.url}${entry.data === "-" ? "" : ` (${entry.data})`}: ${entry[who]}`, () => checkRoute(request, who, entry));
      }
      if (who === "out") await request.dispose();
    });
  });
}
