/** The tokendesk client SDK. Node-only helpers (file storage with a lock file) live in `@tokendesk/sdk/node`. */

export type { Environment, SdkStatus, StatusListener, TokendeskClientOptions } from "./client";
export { createTokendeskClient, describeApiKey, describeSignInToken, SIGN_IN_TOKEN_TYPE, TokendeskClient } from "./client";
export { isSdkError, type SdkErrorCode, TokendeskSdkError } from "./errors";
export {
  type IndexedDbFactory,
  indexedDbStorage,
  type KeyValueStore,
  keyValueStorage,
  localStorageAdapter,
  memoryStorage,
  type SdkStorage,
  type WebStorage,
} from "./storage";
