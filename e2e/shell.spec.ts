/** Each role sees exactly its navigation, and its own name and role in the shell. */
import { expect, test } from "@playwright/test";
import { NAV_ITEMS } from "@/components/shell/navigation";
import { can, ROLE_LABELS } from "@/lib/staff/rbac";
import { authFile, demo, ROLES, snap } from "./fixtures";

for (const role of ROLES) {
  test.describe(`the shell as ${role}`, () => {
    test.use({ storageState: authFile(role) });

    test("shows only the navigation of the role, and who is signed in", async ({ page }) => {
      await page.goto("/");
      const nav = page.getByRole("navigation", { name: "Console" });
      const expected = NAV_ITEMS.filter((i) => can(role, i.permission));
      await expect(nav.getByRole("link")).toHaveText(expected.map((i) => i.label));
      for (const item of expected) await expect(nav.getByRole("link", { name: item.label })).toHaveAttribute("href", item.href);
      await expect(nav.getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");

      const identity = page.getByTestId("staff-identity");
      await expect(identity).toContainText(demo(role).name);
      await expect(identity).toContainText(demo(role).email);
      await expect(identity).toContainText(ROLE_LABELS[role]);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Hello, ${demo(role).name}`);
      await snap(page, `overview-${role}`);
    });
  });
}
