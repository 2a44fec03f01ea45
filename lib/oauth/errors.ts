/**
 * OAuth endpoint errors, RFC 6749 §5.2: `{error, error_description}`, HTTP 400 (401 for
 * `invalid_client`, 429 for `rate_limited`). Descriptions of refusals an SDK must act on start with a machine-readable word
 * (`user_deleted:`, `user_disabled:`, `incompatible_migration:`, ...) so SDKs can branch on it.
 */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_token_type"
  | "invalid_scope"
  | "rate_limited";

/**
 * RFC 6749 §5.2: an error_description holds only %x20-21 / %x23-5B / %x5D-7E. A description may
 * quote what the client sent (a grant type, a parameter name), so whatever falls outside — control
 * bytes above all, which must never be echoed — is replaced: `"` by `'`, `\` by `/`, the rest by `?`.
 */
export function oauthDescription(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, (c) => (c === '"' ? "'" : c === "\\" ? "/" : "?"));
}

export class OAuthError extends Error {
  override name = "OAuthError";
  readonly description: string;
  constructor(
    readonly error: OAuthErrorCode,
    description: string,
    readonly status: number = error === "invalid_client" ? 401 : error === "rate_limited" ? 429 : 400,
    /** For `rate_limited`: the Retry-After seconds. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    const clean = oauthDescription(description);
    super(clean);
    this.description = clean;
  }
}

export const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);
export const invalidRequest = (description: string) => new OAuthError("invalid_request", description);

export function isOAuthError(err: unknown): err is OAuthError {
  return err instanceof OAuthError;
}
