import type { Permission } from "@/lib/staff/rbac";

/** The console's pages; the shell shows a link only when the role holds its permission. */
export const NAV_ITEMS: Array<{ href: string; label: string; permission: Permission }> = [
  { href: "/", label: "Overview", permission: "console:view" },
  { href: "/users", label: "Users", permission: "users:read" },
  { href: "/devices", label: "Devices", permission: "devices:read" },
  // Every role that may read users may also read devices (lib/staff/rbac.ts), so devices:read
  // covers "devices:read or users:read" for the JWT inspector.
  { href: "/inspector", label: "JWT inspector", permission: "devices:read" },
  { href: "/handoffs", label: "IDV handoffs", permission: "users:read" },
  { href: "/migrations", label: "Migrations", permission: "migrations:read" },
  { href: "/audit", label: "Audit log", permission: "audit:read" },
  { href: "/staff", label: "Staff", permission: "staff:manage" },
  { href: "/api-keys", label: "API keys", permission: "api_keys:manage" },
  { href: "/instances", label: "Instances", permission: "instances:manage" },
  { href: "/workflows", label: "Workflows", permission: "workflows:manage" },
  { href: "/webhooks", label: "Webhooks", permission: "webhooks:read" },
  { href: "/settings", label: "Settings", permission: "settings:manage" },
  // Every member's own second factors.
  { href: "/security", label: "Security", permission: "console:view" },
];
