// Type-checked against the installed tarball's declarations (tests/http/sdk-package.test.ts): the
// exports map must give TypeScript both entry points, and the types must be real, not `any`.
import { createTokendeskClient, isSdkError, keyValueStorage, memoryStorage, type SdkStatus, type TokendeskClient } from "@tokendesk/sdk";
import { fileStorage } from "@tokendesk/sdk/node";

export const client: TokendeskClient = createTokendeskClient({ baseUrl: "https://tokens.example.com", storage: memoryStorage(), timeoutMs: 5000 });
export const onFile: TokendeskClient = createTokendeskClient({ baseUrl: "https://tokens.example.com", storage: fileStorage("state.json") });
export const secure: TokendeskClient = createTokendeskClient({
  baseUrl: "https://tokens.example.com",
  storage: keyValueStorage({ getItem: async () => null, setItem: async () => {}, removeItem: async () => {} }),
});
export const unsubscribe: () => void = client.onStatusChange((status: Set<SdkStatus>) => void status.has("signedIn"));
export async function userId(): Promise<string | null> {
  try {
    return await client.currentUserId();
  } catch (err) {
    if (isSdkError(err, "timeout")) return null;
    throw err;
  }
}
// @ts-expect-error baseUrl is required
createTokendeskClient({ storage: memoryStorage() });
// @ts-expect-error not an error code of the SDK
isSdkError(new Error(), "noSuchCode");
