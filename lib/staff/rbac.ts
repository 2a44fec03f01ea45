/**
 * Staff roles and what each may do — the table of DESIGN.md as data. `can` is the one permission
 * check used by pages, server actions and route handlers alike (never only by proxy.ts).
 */
import { ENVIRONMENTS, type Environment } from "@/lib/environments";

export const STAFF_ROLES = ["admin", "support", "qa", "auditor"] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const PERMISSIONS = [
  "console:view",
  "users:read",
  "users:write",
  "users:issue_tokens",
  "users:revoke_sessions",
  "users:disable",
  "users:delete",
  "devices:read",
  "devices:manage",
  "audit:read",
  "audit:export",
  "migrations:read",
  "staff:manage",
  "api_keys:manage",
  "instances:manage",
  "workflows:manage",
  "settings:manage",
  "webhooks:read",
  "webhooks:manage",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const SUPPORT: Permission[] = [
  "console:view",
  "users:read",
  // create a user, change a user's name and email (as a backend's POST /v2/user would)
  "users:write",
  "users:issue_tokens",
  "users:revoke_sessions",
  "users:disable",
  "devices:read",
  "devices:manage",
  "migrations:read",
];

const GRANTS: Record<StaffRole, ReadonlySet<Permission>> = {
  admin: new Set(PERMISSIONS),
  support: new Set(SUPPORT),
  // qa: the same as support, but only in sandbox (see `can`).
  qa: new Set(SUPPORT),
  auditor: new Set<Permission>(["console:view", "users:read", "devices:read", "audit:read", "audit:export", "migrations:read", "webhooks:read"]),
};

export const ROLE_LABELS: Record<StaffRole, string> = {
  admin: "Admin",
  support: "Support",
  qa: "QA",
  auditor: "Auditor",
};

export const ROLE_DESCRIPTIONS: Record<StaffRole, string> = {
  admin: "Everything, including staff, API keys, instances, workflows, webhooks and settings.",
  support: "Look users up, create them and edit their name and email, issue sign-in tokens and IDV handoffs, revoke sessions, disable users, inspect devices.",
  qa: "The same as support, in the sandbox environment only.",
  auditor: "Read everything: audit log, exports, verification and the migration report. Issues nothing.",
};

/**
 * May `role` do `permission`, optionally on something in `environment`? QA staff are confined to
 * sandbox: asked about production they are refused, asked without an environment they are allowed
 * (and the caller must then restrict what it shows to sandbox; see `visibleEnvironments`).
 */
export function can(role: StaffRole, permission: Permission, environment?: Environment | string | null): boolean {
  if (!GRANTS[role]?.has(permission)) return false;
  if (role === "qa" && environment && environment !== "sandbox") return false;
  return true;
}

const READ_ONLY = new Set<Permission>(["console:view", "users:read", "devices:read", "audit:read", "audit:export", "migrations:read"]);

/** Does `permission` change something (as opposed to reading)? */
export function isWritePermission(permission: Permission): boolean {
  return !READ_ONLY.has(permission);
}

/** The environments whose data a role may see at all. */
export function visibleEnvironments(role: StaffRole): Environment[] {
  return role === "qa" ? ["sandbox"] : [...ENVIRONMENTS];
}

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === "string" && (STAFF_ROLES as readonly string[]).includes(value);
}
