/**
 * OAuth endpoint errors, RFC 6749 §5.2: `{error, error_description}`, HTTP 400 (401 for
 * `invalid_client`). Descriptions of refusals an SDK must act on start with a machine-readable word
 * (`user_deleted:`, `user_disabled:`, `incompatible_migration:`, ...) so SDKs can branch on it.
 */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_token_type"
  | "invalid_scope";

export class OAuthError extends Error {
  override name = "OAuthError";
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: number = error === "invalid_client" ? 401 : 400,
  ) {
    super(description);
  }
}

export const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);
export const invalidRequest = (description: string) => new OAuthError("invalid_request", description);

export function isOAuthError(err: unknown): err is OAuthError {
  return err instanceof OAuthError;
}
