/**
 * The RBAC matrix as data: every console page, route and server action with the permission it
 * needs. rbac.spec.ts checks every role against every row — allowed roles get in, the others get
 * the 403 page or an error and nothing changes. Add a row when you add a page or an action.
 */
import { expect, type Page } from "@playwright/test";
import type { Permission } from "@/lib/staff/rbac";
import { auditEvents } from "./fixtures";

export interface PageRule {
  path: string;
  permission: Permission;
  /** The page's heading, as those allowed see it. */
  heading: string | RegExp;
}

export const PAGE_MATRIX: PageRule[] = [
  { path: "/", permission: "console:view", heading: /^Hello, / },
  { path: "/audit", permission: "audit:read", heading: "Audit log" },
  { path: "/audit?action=staff.&outcome=success", permission: "audit:read", heading: "Audit log" },
  { path: "/staff", permission: "staff:manage", heading: "Staff" },
  { path: "/devices", permission: "devices:read", heading: "Devices" },
  { path: "/devices?q=fleet-driver", permission: "devices:read", heading: "Devices" },
  { path: "/inspector", permission: "devices:read", heading: "JWT inspector" },
  { path: "/instances", permission: "instances:manage", heading: "Instances" },
  { path: "/users", permission: "users:read", heading: "Users" },
  { path: "/users?q=nobody&status=disabled", permission: "users:read", heading: "Users" },
  { path: "/api-keys", permission: "api_keys:manage", heading: "API keys" },
  { path: "/settings", permission: "settings:manage", heading: "Settings" },
  { path: "/security", permission: "console:view", heading: "Security" },
  { path: "/handoffs", permission: "users:read", heading: "IDV handoffs" },
  { path: "/handoffs?status=submitted&environment=sandbox", permission: "users:read", heading: "IDV handoffs" },
  { path: "/workflows", permission: "workflows:manage", heading: "IDV workflows" },
  { path: "/migrations", permission: "migrations:read", heading: "Migration off API keys" },
];

export interface RouteRule {
  path: string;
  permission: Permission;
  /** Status for those allowed; the others get 403 with a JSON error. */
  status: number;
}

export const ROUTE_MATRIX: RouteRule[] = [
  { path: "/audit/export?format=csv", permission: "audit:export", status: 200 },
  { path: "/audit/export?format=ndjson&action=staff.", permission: "audit:export", status: 200 },
  { path: "/migrations/export?format=csv", permission: "migrations:read", status: 200 },
];

/** What an action test gets: a staff member set aside for the matrix, and a fresh unique string. */
export interface ActionFixture {
  baseURL: string;
  target: { id: string; email: string };
  marker: string;
  /** Email of the staff member whose session submitted the action. */
  actorEmail: string;
}

export interface ActionRule {
  name: string;
  permission: Permission;
  /** The page whose form calls the action; it is opened as the demo admin. */
  path: string;
  /** Submits the action's form. By now the browser holds the refused role's session. */
  submit(page: Page, fx: ActionFixture): Promise<void>;
  /** Asserts, as an admin would see it, that the action changed nothing. */
  assertUnchanged(fx: ActionFixture): Promise<void>;
}

const none = async (baseURL: string, filter: Record<string, string>) => expect(await auditEvents(baseURL, filter)).toEqual([]);

function staffRow(page: Page, email: string) {
  return page.getByTestId(`staff-row-${email}`);
}

export const ACTION_MATRIX: ActionRule[] = [
  {
    name: "create a staff member",
    permission: "staff:manage",
    path: "/staff",
    async submit(page, fx) {
      const form = page.getByRole("form", { name: "Add a staff member" });
      await form.getByLabel("Email").fill(`${fx.marker}@e2e.test`);
      await form.getByLabel("Role").selectOption("admin");
      await form.getByLabel("Initial password").fill("a long enough password");
      await form.getByRole("button", { name: "Add staff member" }).click();
    },
    async assertUnchanged(fx) {
      const created = await auditEvents(fx.baseURL, { action: "staff.created" });
      expect(created.filter((e) => e.details.email === `${fx.marker}@e2e.test`)).toEqual([]);
    },
  },
  {
    name: "change a staff member's role",
    permission: "staff:manage",
    path: "/staff",
    async submit(page, fx) {
      const row = staffRow(page, fx.target.email);
      await row.locator('select[name="role"]').selectOption("admin");
      await row.getByRole("button", { name: "Save role" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "staff.role_changed", targetType: "staff", targetId: fx.target.id }),
  },
  {
    name: "disable a staff member",
    permission: "staff:manage",
    path: "/staff",
    async submit(page, fx) {
      await staffRow(page, fx.target.email).getByRole("button", { name: "Disable" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "staff.disabled", targetType: "staff", targetId: fx.target.id }),
  },
  {
    name: "reset a staff member's password",
    permission: "staff:manage",
    path: "/staff",
    async submit(page, fx) {
      await staffRow(page, fx.target.email).getByRole("button", { name: "Reset password" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("New password").fill("a hijacked password");
      await dialog.getByRole("button", { name: "Set password" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "staff.password_reset", targetType: "staff", targetId: fx.target.id }),
  },
  {
    name: "verify the audit chain",
    permission: "audit:read",
    path: "/audit",
    async submit(page) {
      await page.getByRole("button", { name: "Verify the chain now" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "audit.verified", actor: fx.actorEmail }),
  },
  {
    name: "create an API key",
    permission: "api_keys:manage",
    path: "/api-keys",
    async submit(page, fx) {
      await page.getByRole("button", { name: "Create API key" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Name").fill(fx.marker);
      await dialog.getByLabel("All scopes").check();
      await dialog.getByRole("button", { name: "Create key" }).click();
    },
    async assertUnchanged(fx) {
      const created = await auditEvents(fx.baseURL, { action: "api_key.created" });
      expect(created.filter((e) => e.details.name === fx.marker)).toEqual([]);
    },
  },
  {
    name: "create a telematics instance",
    permission: "instances:manage",
    path: "/instances",
    async submit(page, fx) {
      const form = page.getByRole("form", { name: "Create an instance" });
      await form.getByLabel("Name").fill(fx.marker);
      await form.getByRole("button", { name: "Create instance" }).click();
    },
    async assertUnchanged(fx) {
      const created = await auditEvents(fx.baseURL, { action: "instance.created" });
      expect(created.filter((e) => e.details.name === fx.marker)).toEqual([]);
    },
  },
  {
    name: "change token lifetimes",
    permission: "settings:manage",
    path: "/settings",
    async submit(page) {
      const form = page.getByRole("form", { name: "sandbox lifetimes" });
      await form.getByLabel("Sign-in token lifetime (seconds)").fill("61");
      await form.getByRole("button", { name: "Save sandbox lifetimes" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "settings.changed", actor: fx.actorEmail }),
  },
  {
    name: "rotate the signing key",
    permission: "settings:manage",
    path: "/settings",
    async submit(page) {
      await page.getByRole("button", { name: "Rotate now" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Rotate signing key" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "signing_key.rotated", actor: fx.actorEmail }),
  },
  {
    name: "issue an IDV handoff",
    permission: "users:issue_tokens",
    path: "/handoffs",
    async submit(page, fx) {
      const form = page.getByRole("form", { name: "Issue IDV handoff" });
      await form.getByLabel("External user id", { exact: true }).fill(fx.marker);
      await form.getByLabel("Reason").fill(fx.marker);
      await form.getByRole("button", { name: "Issue handoff" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "ephemeral_token.minted", actor: fx.actorEmail }),
  },
  {
    name: "create an IDV workflow",
    permission: "workflows:manage",
    path: "/workflows",
    async submit(page, fx) {
      const form = page.getByRole("form", { name: "New workflow" });
      await form.getByLabel("Name").fill(fx.marker);
      await form.getByRole("button", { name: "Create workflow" }).click();
    },
    assertUnchanged: (fx) => none(fx.baseURL, { action: "workflow.created", actor: fx.actorEmail }),
  },
];
