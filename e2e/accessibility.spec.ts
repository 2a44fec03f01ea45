/**
 * Every console page, as every role, at 1024 px: axe finds no serious or critical violation, and
 * the page fits the window (no sideways scrolling, no table wider than its card, no select cutting
 * its option). The same in the system's dark mode, on a tablet (the sidebar folds into a Menu
 * button), inside the dialogs, and for every screen of the phone's IDV flow.
 */
import { devices, expect, type Page, test } from "@playwright/test";
import { NAV_ITEMS } from "@/components/shell/navigation";
import { can, type Permission, type StaffRole } from "@/lib/staff/rbac";
import { expectAccessible, expectFits } from "./a11y";
import { authFile, ROLES, unique } from "./fixtures";

/** The detail pages: the first row of each list, when the role may open the list. */
const DETAILS: Array<{ list: string; rowLink: string; permission: Permission }> = [
  { list: "/users", rowLink: '[data-testid="user-row"] a', permission: "users:read" },
  { list: "/devices", rowLink: 'main table tbody a[href^="/devices/"]', permission: "devices:read" },
  { list: "/handoffs", rowLink: '[data-testid="handoff-row"] a', permission: "users:read" },
];

async function open(page: Page, path: string) {
  const res = await page.goto(path);
  expect(res!.status(), path).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
}

/**
 * Opens every page of the role's navigation and then the detail page of the first row of each list
 * it may open, and runs `check` on each. A list's first row is read while the walk is on that list
 * (the walk used to open the three lists once more beforehand just to find those rows).
 */
async function walk(page: Page, role: StaffRole, check: (path: string) => Promise<void>): Promise<void> {
  const paths = NAV_ITEMS.filter((i) => can(role, i.permission)).map((i) => i.href);
  const details: string[] = [];
  for (const path of paths) {
    await open(page, path);
    await check(path);
    const detail = DETAILS.find((d) => d.list === path && can(role, d.permission));
    if (detail) {
      const href = await page.locator(detail.rowLink).first().getAttribute("href");
      expect(href, `a row on ${detail.list}`).toBeTruthy();
      details.push(href!);
    }
  }
  for (const path of details) {
    await open(page, path);
    await check(path);
  }
}

// The walks only read and each opens its own page: they spread over both workers instead of
// queueing behind each other in one (this file was 10 of the e2e step's 15 minutes in one worker).
test.describe.configure({ mode: "parallel" });

for (const role of ROLES) {
  test.describe(`as ${role}`, () => {
    test.use({ storageState: authFile(role), viewport: { width: 1024, height: 768 } });

    test("every page passes axe and fits 1024 px", async ({ page }) => {
      test.setTimeout(480_000); // an admin's walk is some 20 pages, each a full axe run, on a busy machine
      await walk(page, role, async (path) => {
        // Soft: one run lists every page's problems, not only the first page's.
        await expectAccessible(page, `${path} as ${role}`, { soft: true });
        await expectFits(page, `${path} as ${role} at 1024 px`, { soft: true });
      });
    });
  });
}

test.describe("dark mode", () => {
  test.use({ storageState: authFile("admin"), colorScheme: "dark", viewport: { width: 1280, height: 900 } });

  test("follows the system: dark surfaces, light text, and still no violation", async ({ page }) => {
    test.setTimeout(180_000);
    await walk(page, "admin", async (path) => {
      const [body, card] = await page.evaluate(() => {
        const luminance = (el: Element | null) => {
          const m = getComputedStyle(el ?? document.body)
            .backgroundColor.match(/[\d.]+/g)!
            .map(Number);
          // oklch() or rgb(): either way the first number orders dark below light (percent or 0–255).
          return getComputedStyle(el ?? document.body).backgroundColor.startsWith("oklch") ? m[0]! / 100 : (m[0]! + m[1]! + m[2]!) / 765;
        };
        return [luminance(document.body), luminance(document.querySelector("main section"))];
      });
      expect(body, `page background of ${path}`).toBeLessThan(0.3);
      expect(card, `card background of ${path}`).toBeLessThan(0.3);
      await expectAccessible(page, `${path} in dark mode`);
    });
  });
});

test.describe("on a tablet", () => {
  test.use({ storageState: authFile("support"), viewport: { width: 800, height: 1100 } });

  test("the sidebar folds into a Menu button that opens and closes the navigation", async ({ page }) => {
    await open(page, "/users");
    const nav = page.getByRole("navigation", { name: "Console" });
    await expect(nav).toBeHidden();
    const menu = page.getByRole("button", { name: "Menu" });
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await menu.click();
    await expect(nav).toBeVisible();
    await expect(page.getByRole("button", { name: "Close menu" })).toHaveAttribute("aria-expanded", "true");
    await expectAccessible(page, "/users with the menu open");
    await nav.getByRole("link", { name: "IDV handoffs" }).click();
    await expect(page).toHaveURL(/\/handoffs$/);
    await expect(nav).toBeHidden();
    await expectFits(page, "/handoffs at 800 px");
  });
});

test.describe("dialogs and drawers", () => {
  test.use({ storageState: authFile("admin"), viewport: { width: 1024, height: 768 } });

  test("the issue dialog, the create-user dialog and the audit drawer pass axe", async ({ page }) => {
    test.setTimeout(180_000); // three axe runs of a full page on a busy machine
    await open(page, "/users?status=active&q=test_"); // an active demo user: other specs disable theirs
    await page.locator('[data-testid="user-row"] a').first().click();
    await page.getByRole("button", { name: "Issue sign-in token" }).click();
    await expect(page.getByRole("dialog")).toBeVisible();
    await expectAccessible(page, "the issue dialog");
    await page.keyboard.press("Escape");

    await open(page, "/users");
    await page.getByRole("button", { name: "Create user" }).click();
    await expect(page.getByRole("dialog", { name: "Create a user" })).toBeVisible();
    await expectAccessible(page, "the create-user dialog");
    await page.keyboard.press("Escape");

    await open(page, "/audit");
    await page
      .getByTestId("audit-row")
      .first()
      .getByRole("button", { name: /^Details of / })
      .click();
    await expect(page.getByTestId("audit-drawer")).toBeVisible();
    await expectAccessible(page, "the audit drawer");
  });
});

test.describe("the phone's pages", () => {
  test.use({ storageState: authFile("support") });

  test("sign-in, the handoff link pages and every step of the phone flow pass axe", async ({ page, browser }) => {
    test.setTimeout(120_000);
    await page.goto("/handoffs");
    const form = page.getByRole("form", { name: "Issue IDV handoff" });
    await form.getByLabel("External user id", { exact: true }).fill(unique("a11y"));
    await form.getByLabel("Workflow").selectOption({ label: "Full KYC: ID, selfie and details" });
    await form.getByLabel("Reason").fill("e2e: accessibility of the phone flow");
    await form.getByRole("button", { name: "Issue handoff" }).click();
    const fullUrl = await page.getByTestId("handoff-url").inputValue();
    const mobileUrl = new URL(fullUrl).searchParams.get("url")!;

    const phone = await browser.newContext({ ...devices["Pixel 7"], storageState: { cookies: [], origins: [] } });
    const p = await phone.newPage();
    for (const [path, what] of [
      ["/login", "the sign-in page"],
      ["/h/not-a-code", "a broken short link"],
      [fullUrl, "the capture page"],
    ] as const) {
      await p.goto(path);
      await expectAccessible(p, what);
      await expectFits(p, what);
    }
    await p.goto(mobileUrl);
    await expect(p.getByTestId("mobile-progress")).toHaveText("Step 1 of 3");
    await expectAccessible(p, "the phone's photo step");
    await expectFits(p, "the phone's photo step");
    await phone.close();
  });
});
