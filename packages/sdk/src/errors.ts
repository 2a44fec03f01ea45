/** Every failure the SDK reports has a stable code an app can switch on. */
export type SdkErrorCode =
  | "alreadySignedIn"
  | "notSignedIn"
  | "notConfigured"
  | "invalidSignInToken"
  | "incompatibleMigration"
  | "signInTokenRejected"
  | "userDeleted"
  | "userDisabled"
  | "sessionEnded"
  | "network"
  | "timeout"
  | "aborted"
  | "http";

export class TokendeskSdkError extends Error {
  override name = "TokendeskSdkError";
  readonly code: SdkErrorCode;
  readonly status: number | undefined;
  readonly detail: unknown;
  constructor(code: SdkErrorCode, message: string, status?: number, detail?: unknown) {
    super(message);
    this.code = code;
    this.status = status;
    this.detail = detail;
  }
}

export function isSdkError(err: unknown, code?: SdkErrorCode): err is TokendeskSdkError {
  return err instanceof TokendeskSdkError && (code === undefined || err.code === code);
}
