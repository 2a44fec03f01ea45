/**
 * The RBAC matrix (e2e/rbac-matrix.ts) against every role. Pages: allowed roles see the page, the
 * others the 403 page. Server actions: the refused role's session submits the form of a page an
 * admin had open (a console tab left open after a role change, or a crafted request); it gets an
 * error sentence and the audit log shows nothing happened.
 */
import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { can, ROLE_LABELS } from "@/lib/staff/rbac";
import { authFile, createStaffViaUi, demo, ROLES, snap, unique } from "./fixtures";
import { ACTION_MATRIX, PAGE_MATRIX, ROUTE_MATRIX } from "./rbac-matrix";

for (const role of ROLES) {
  test.describe(`pages as ${role}`, () => {
    test.use({ storageState: authFile(role) });

    for (const rule of PAGE_MATRIX) {
      const allowed = can(role, rule.permission);
      test(`${rule.path} is ${allowed ? "shown" : "refused with 403"}`, async ({ page }) => {
        const res = await page.goto(rule.path);
        if (allowed) {
          expect(res!.status()).toBe(200);
          await expect(page.getByRole("heading", { level: 1 })).toHaveText(rule.heading);
        } else {
          expect(res!.status()).toBe(403);
          await expect(page.getByRole("heading", { level: 1 })).toHaveText("You don’t have access to this page");
          if (rule.path === "/staff") await snap(page, `403-${role}`);
        }
      });
    }

    for (const rule of ROUTE_MATRIX) {
      const allowed = can(role, rule.permission);
      test(`${rule.path} answers ${allowed ? rule.status : 403}`, async ({ page }) => {
        const res = await page.request.get(rule.path);
        if (allowed) {
          expect(res.status()).toBe(rule.status);
        } else {
          expect(res.status()).toBe(403);
          expect(await res.json()).toEqual({ error: { code: "forbidden", message: expect.stringMatching(/may not/) } });
        }
      });
    }
  });
}

test.describe("pages signed out", () => {
  for (const rule of PAGE_MATRIX) {
    test(`${rule.path} sends to sign-in`, async ({ page }) => {
      await page.goto(rule.path);
      await expect(page).toHaveURL(/\/login$/);
    });
  }
  for (const rule of ROUTE_MATRIX) {
    test(`${rule.path} answers 401`, async ({ request }) => {
      const res = await request.get(rule.path);
      expect(res.status()).toBe(401);
    });
  }
});

test.describe("server actions refused to roles without the permission", () => {
  test.use({ storageState: authFile("admin") });
  let target: { id: string; email: string };

  test.beforeAll(async ({ browser }) => {
    // A member set aside for the matrix: nobody else touches it, so "nothing changed" is exact.
    const context = await browser.newContext({ storageState: authFile("admin") });
    const page = await context.newPage();
    const email = `${unique("rbac-target")}@e2e.test`;
    target = { email, id: await createStaffViaUi(page, { email, role: "support", password: "rbac target password" }) };
    await context.close();
  });

  for (const rule of ACTION_MATRIX) {
    for (const role of ROLES.filter((r) => !can(r, rule.permission))) {
      test(`${rule.name} as ${role}`, async ({ page, context, baseURL }) => {
        await page.goto(rule.path);
        // From here on the browser speaks with the refused role's session.
        const roleState = JSON.parse(fs.readFileSync(authFile(role), "utf8")) as { cookies: Parameters<typeof context.addCookies>[0] };
        await context.clearCookies();
        await context.addCookies(roleState.cookies);

        const fx = { baseURL: baseURL!, target, marker: unique(`rbac-${role}`), actorEmail: demo(role).email };
        await rule.submit(page, fx);
        await expect(page.getByRole("alert").filter({ hasText: "may not do this" })).toHaveText(`The ${ROLE_LABELS[role]} role may not do this.`);
        await rule.assertUnchanged(fx);
      });
    }
  }
});
