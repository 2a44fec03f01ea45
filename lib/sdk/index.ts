/** The tokendesk client SDK. Node-only helpers (file storage) live in `lib/sdk/node`. */
export { createTokendeskClient, describeApiKey, describeSignInToken, TokendeskClient, SIGN_IN_TOKEN_TYPE } from "./client";
export type { Environment, SdkStatus, TokendeskClientOptions } from "./client";
export { isSdkError, TokendeskSdkError, type SdkErrorCode } from "./errors";
export { localStorageAdapter, memoryStorage, type SdkStorage } from "./storage";
