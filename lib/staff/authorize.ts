import type { Actor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { can, isWritePermission, type Permission, ROLE_LABELS } from "./rbac";

/**
 * Throws 403 unless `actor` may do `permission` (on `environment`). The system actor (CLI,
 * start-up seed, sweepers) may do anything; other non-staff actors reach the core through their
 * own checks (API-key scopes, token ownership) and never through staff permissions. A staff session
 * without a second factor or SSO is refused production changes when the policy says so.
 */
export function assertStaffCan(actor: Actor, permission: Permission, environment?: string | null): void {
  if (actor.type === "system") return;
  if (actor.type !== "staff") throw new DomainError("forbidden");
  if (!can(actor.role, permission, environment)) {
    throw new DomainError(
      "forbidden",
      actor.role === "qa" && environment && environment !== "sandbox" && can(actor.role, permission)
        ? "QA staff may only act in the sandbox environment."
        : `The ${ROLE_LABELS[actor.role]} role may not do this.`,
    );
  }
  if (actor.productionLocked && environment === "production" && isWritePermission(permission)) {
    throw new DomainError(
      "strong_auth_required",
      "Production actions need a second factor or single sign-on: add an authenticator app or a passkey under Security, then sign in again.",
    );
  }
}
