/**
 * The API reference as served: `/openapi.json` validates with a real OpenAPI validator, names this
 * deployment as its server and covers every machine route; `/docs/api` renders it in Chromium
 * (Redoc, served from this origin under a strict CSP). The suite's other files check their real
 * answers against this document (tests/helpers/openapi.ts, through the call helpers).
 */
import fs from "node:fs";
import { chromium } from "@playwright/test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openApiPath } from "@/server/openapi/document";
import { MACHINE_ROUTES } from "@/server/routes";
import { baseUrl, call, mintKey, openTestDb } from "../helpers/machine-api";

describe("/openapi.json and /docs/api", () => {
  it("serves a valid OpenAPI 3.1 document of every machine route, with this deployment as its server", async () => {
    const res = await fetch(`${baseUrl()}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(doc.servers).toEqual([{ url: baseUrl() }]);
    for (const route of MACHINE_ROUTES.filter((r) => r.method !== "OPTIONS")) {
      expect(doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    }
  });

  it("checks real answers against the document, and would catch one that drifts", async () => {
    const handle = await openTestDb();
    try {
      const { key } = await mintKey(handle);
      // Through the helper: validated against /openapi.json on the way.
      expect((await call("/v2/user?limit=1", { key })).status).toBe(200);
      const { assertDocumented } = await import("../helpers/openapi");
      await expect(assertDocumented(baseUrl(), "GET", "/v2/user?limit=1", 200, "application/json", { users: [{ user_id: 1 }] })).rejects.toThrow(
        /does not fit its documented schema/,
      );
      await expect(assertDocumented(baseUrl(), "DELETE", "/v2/user/x", 204, null, null)).rejects.toThrow(/does not document/);
    } finally {
      await handle.close();
    }
  });

  it("renders the reference in Chromium", { timeout: 240_000 }, async () => {
    const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
    const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text())); // CSP refusals land here
      // A 1 MB script on a shared, loaded machine: wait for the document, then for the rendering.
      const res = await page.goto(`${baseUrl()}/docs/api`, { waitUntil: "domcontentloaded", timeout: 90_000 });
      expect(res!.status()).toBe(200);
      expect(res!.headers()["content-security-policy"]).toContain("script-src 'self'");
      await expect
        .poll(
          () =>
            page
              .getByRole("heading", { name: /tokendesk machine API/ })
              .first()
              .isVisible(),
          { timeout: 90_000 },
        )
        .toBe(true);
      // Every operation gets its section (Redoc renders them as h2 headings), the users' first.
      await expect.poll(() => page.locator("h2").filter({ hasText: "Create a user (Junction: user.create)" }).count(), { timeout: 30_000 }).toBe(1);
      expect(await page.locator("h2").count()).toBeGreaterThanOrEqual(Object.keys((await (await fetch(`${baseUrl()}/openapi.json`)).json()).paths).length);
      await page.screenshot({ path: "test-results/docs-api.png" });
      // Nothing fails but Redoc's footer logo, which it fetches from its CDN and the page's CSP refuses.
      expect(errors.filter((e) => !e.includes("cdn.redoc.ly"))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
