/** The tokendesk client SDK. Node-only helpers (file storage) live in `lib/sdk/node`. */

export type { Environment, SdkStatus, TokendeskClientOptions } from "./client";
export { createTokendeskClient, describeApiKey, describeSignInToken, SIGN_IN_TOKEN_TYPE, TokendeskClient } from "./client";
export { isSdkError, type SdkErrorCode, TokendeskSdkError } from "./errors";
export { localStorageAdapter, memoryStorage, type SdkStorage } from "./storage";
