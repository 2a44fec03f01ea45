/**
 * What a Team API key may do (API.md "Environments, regions, API keys"). The route wrappers check
 * the scope when they authenticate, and the domain checks again so that no caller can forget; both
 * refuse the same way: 403 `insufficient_scope` naming the scope in `required_scope`.
 */
import type { Actor } from "@/lib/context";
import { DomainError } from "@/lib/errors";

export const API_KEY_SCOPES = ["users:read", "users:write", "sign_in_tokens:write", "ephemeral_devices:write", "sessions:read", "tokens:introspect"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export function insufficientScope(scope: ApiKeyScope): DomainError {
  return new DomainError("insufficient_scope", `This API key lacks the ${scope} scope.`, { required_scope: scope });
}

/** For an API-key actor without `scope`: the refusal. Other actors are checked by their own rules. */
export function assertKeyScope(actor: Actor, scope: ApiKeyScope): void {
  if (actor.type === "api_key" && !actor.scopes.includes(scope)) throw insufficientScope(scope);
}
