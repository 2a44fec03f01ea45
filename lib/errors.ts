/**
 * One error type for the domain core: a stable snake_case code, a sentence for people, and the
 * HTTP status an adapter should answer. Route handlers and server actions map it; anything else
 * thrown is a bug and is answered as a generic 500 without leaking its message.
 */
export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limited"
  | "payload_too_large"
  | "unsupported_media_type"
  | (string & {});

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code: ErrorCode = "bad_request", extra?: Record<string, unknown>) => new DomainError(code, message, 400, extra);
export const forbidden = (message = "You are not allowed to do this.", code: ErrorCode = "forbidden") => new DomainError(code, message, 403);
export const notFound = (message = "Not found.", code: ErrorCode = "not_found") => new DomainError(code, message, 404);
export const conflict = (message: string, code: ErrorCode = "conflict", extra?: Record<string, unknown>) => new DomainError(code, message, 409, extra);
export const rateLimited = (message: string, retryAfterSeconds: number) => new DomainError("rate_limited", message, 429, { retryAfterSeconds });

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
