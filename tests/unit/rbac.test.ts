import { describe, expect, it } from "vitest";
import { DomainError } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";
import { can, PERMISSIONS, visibleEnvironments } from "@/lib/staff/rbac";
import { roleFromClaims } from "@/lib/staff/staff";

describe("roles", () => {
  it("gives admin everything", () => {
    for (const p of PERMISSIONS) expect(can("admin", p, "production")).toBe(true);
  });

  it("lets support work with users but not manage staff, keys or settings, or read the audit log", () => {
    expect(can("support", "users:issue_tokens", "production")).toBe(true);
    expect(can("support", "users:delete")).toBe(false);
    for (const p of ["staff:manage", "api_keys:manage", "settings:manage", "audit:read"] as const) expect(can("support", p)).toBe(false);
  });

  it("confines qa to sandbox", () => {
    expect(can("qa", "users:issue_tokens", "sandbox")).toBe(true);
    expect(can("qa", "users:issue_tokens", "production")).toBe(false);
    expect(visibleEnvironments("qa")).toEqual(["sandbox"]);
    expect(() => assertStaffCan({ type: "staff", id: "x", name: "qa", role: "qa" }, "users:issue_tokens", "production")).toThrowError(
      /only act in the sandbox environment/,
    );
  });

  it("lets auditors read everything and issue nothing", () => {
    for (const p of ["audit:read", "audit:export", "migrations:read", "users:read", "devices:read"] as const) expect(can("auditor", p)).toBe(true);
    for (const p of ["users:issue_tokens", "users:disable", "users:revoke_sessions", "devices:manage", "staff:manage"] as const) {
      expect(can("auditor", p, "sandbox")).toBe(false);
    }
  });

  it("refuses non-staff actors with a 403", () => {
    expect(() => assertStaffCan({ type: "anonymous", id: null, name: null }, "users:read")).toThrowError(DomainError);
  });

  it("maps SSO claims to roles, first match wins, else the default", () => {
    const oidc = {
      issuer: "x",
      clientId: "x",
      clientSecret: "x",
      displayName: "x",
      roleClaim: "groups",
      roleMap: [
        { value: "admins", role: "admin" as const },
        { value: "helpdesk", role: "support" as const },
      ],
      defaultRole: null,
    };
    expect(roleFromClaims({ groups: ["helpdesk", "admins"] }, oidc)).toBe("admin");
    expect(roleFromClaims({ groups: "helpdesk" }, oidc)).toBe("support");
    expect(roleFromClaims({ groups: ["other"] }, oidc)).toBeNull();
    expect(roleFromClaims({}, { ...oidc, defaultRole: "auditor" })).toBe("auditor");
  });
});
