import { describe, expect, it } from "vitest";
import { DomainError } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";
import { can, PERMISSIONS, visibleEnvironments } from "@/lib/staff/rbac";
import { sessionStanding } from "@/lib/staff/second-factor";
import { roleFromClaims } from "@/lib/staff/staff";

describe("roles", () => {
  it("gives admin everything", () => {
    for (const p of PERMISSIONS) expect(can("admin", p, "production")).toBe(true);
  });

  it("lets support work with users but not manage staff, keys or settings, or read the audit log", () => {
    expect(can("support", "users:issue_tokens", "production")).toBe(true);
    // create users and edit their name and email, as a backend would (issue 14, point 9)
    expect(can("support", "users:write", "production")).toBe(true);
    expect(can("support", "users:delete")).toBe(false);
    for (const p of ["staff:manage", "api_keys:manage", "settings:manage", "audit:read", "webhooks:read", "webhooks:manage"] as const)
      expect(can("support", p)).toBe(false);
  });

  it("confines qa to sandbox", () => {
    expect(can("qa", "users:issue_tokens", "sandbox")).toBe(true);
    expect(can("qa", "users:issue_tokens", "production")).toBe(false);
    expect([can("qa", "users:write", "sandbox"), can("qa", "users:write", "production")]).toEqual([true, false]);
    expect(visibleEnvironments("qa")).toEqual(["sandbox"]);
    expect(() => assertStaffCan({ type: "staff", id: "x", name: "qa", role: "qa" }, "users:issue_tokens", "production")).toThrowError(
      /only act in the sandbox environment/,
    );
  });

  it("lets auditors read everything and issue nothing", () => {
    for (const p of ["audit:read", "audit:export", "migrations:read", "users:read", "devices:read", "webhooks:read"] as const)
      expect(can("auditor", p)).toBe(true);
    for (const p of [
      "users:write",
      "users:issue_tokens",
      "users:disable",
      "users:revoke_sessions",
      "devices:manage",
      "staff:manage",
      "webhooks:manage",
    ] as const) {
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

describe("second-factor policy", () => {
  it("a production-locked staff session may read production and act in sandbox, not change production", () => {
    const policy = { requireSecondFactor: false, productionNeedsStrongAuth: true };
    expect(sessionStanding(policy, ["pwd"])).toEqual({ valid: true, productionLocked: true });
    expect(sessionStanding(policy, ["pwd", "otp"])).toEqual({ valid: true, productionLocked: false });
    expect(sessionStanding(policy, ["sso"])).toEqual({ valid: true, productionLocked: false });
    expect(sessionStanding({ requireSecondFactor: true, productionNeedsStrongAuth: false }, ["pwd"]).valid).toBe(false);
    const locked = { type: "staff" as const, id: "s", name: "s@x.test", role: "admin" as const, productionLocked: true };
    for (const p of ["users:issue_tokens", "users:disable", "api_keys:manage", "settings:manage", "devices:manage"] as const) {
      expect(() => assertStaffCan(locked, p, "production")).toThrow(/second factor or single sign-on/);
      expect(() => assertStaffCan(locked, p, "sandbox")).not.toThrow();
    }
    for (const p of ["users:read", "audit:read", "audit:export", "devices:read"] as const) expect(() => assertStaffCan(locked, p, "production")).not.toThrow();
    expect(() => assertStaffCan({ ...locked, productionLocked: false }, "users:issue_tokens", "production")).not.toThrow();
  });
});
