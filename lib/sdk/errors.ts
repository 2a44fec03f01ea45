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
  | "http";

export class TokendeskSdkError extends Error {
  override name = "TokendeskSdkError";
  constructor(
    readonly code: SdkErrorCode,
    message: string,
    readonly status?: number,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

export function isSdkError(err: unknown, code?: SdkErrorCode): err is TokendeskSdkError {
  return err instanceof TokendeskSdkError && (code === undefined || err.code === code);
}
