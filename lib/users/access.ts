/**
 * Who may see or act on which user. One place for the three kinds of caller:
 * - an API key sees only users of its own environment and region; any other user answers 404 as if
 *   absent, so a sandbox key cannot probe production ids;
 * - staff are checked with `assertStaffCan(actor, permission, user.environment)` (qa: sandbox only);
 * - an SDK user (bearer access token) sees only itself; another id is 403.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { users, type User } from "@/db/schema";
import type { Actor } from "@/lib/context";
import { DomainError, forbidden, notFound } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";
import type { Permission } from "@/lib/staff/rbac";

export const userNotFound = () => notFound("No such user.", "user_not_found");

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && z.uuid().safeParse(value).success;
}

/** API keys are scope-checked by the route wrapper; the core checks again so no caller can forget. */
export function assertKeyScope(actor: Actor, scope: string): void {
  if (actor.type === "api_key" && !actor.scopes.includes(scope)) {
    throw new DomainError("insufficient_scope", `This API key lacks the ${scope} scope.`, 403, { required_scope: scope });
  }
}

export interface LoadUserOptions {
  /** Staff permission the operation needs (checked against the user's environment). */
  permission: Permission;
  /** API-key scope the operation needs. */
  scope: string;
  /** Staff may look at a deleted user's page; nobody may act on one. */
  allowDeleted?: boolean;
  /** Lock the row (inside a transaction) so a concurrent disable/delete waits for us. */
  forUpdate?: boolean;
}

export async function loadUserFor(db: Executor, actor: Actor, userId: string, opts: LoadUserOptions): Promise<User> {
  if (actor.type === "api_key") assertKeyScope(actor, opts.scope);
  else if (actor.type === "user") {
    if (actor.id !== userId) throw forbidden("An access token may only read its own user.", "forbidden");
  } else if (actor.type !== "staff" && actor.type !== "system") throw forbidden();
  if (!isUuid(userId)) throw userNotFound();
  const query = db.select().from(users).where(eq(users.id, userId));
  const [row] = opts.forUpdate ? await query.for("update") : await query;
  if (!row) throw userNotFound();
  if (actor.type === "api_key") {
    if (row.environment !== actor.environment || row.region !== actor.region || row.deletedAt) throw userNotFound();
    return row;
  }
  if (actor.type === "user") {
    if (row.deletedAt) throw userNotFound();
    return row;
  }
  assertStaffCan(actor, opts.permission, row.environment);
  if (row.deletedAt && !opts.allowDeleted) throw userNotFound();
  return row;
}

/** A staff member must say why (sign-in tokens, disable, delete, revoke); API keys need not. */
export function staffReason(actor: Actor, reason: string | null | undefined, what: string): string | null {
  const why = reason?.trim() ?? "";
  if (actor.type === "staff" && !why) {
    throw new DomainError("reason_required", `Give a reason for ${what}.`, 422, { field: "reason" });
  }
  return why ? why.slice(0, 500) : null;
}
