// The web app of the browser tests (tests/http/sdk-package.test.ts), bundled by esbuild from the
// packed SDK installed in an empty project. The test drives it through `window.app`.
import { createTokendeskClient, isSdkError, localStorageAdapter } from "@tokendesk/sdk";

window.skew = 0;
window.app = {
  client: null,
  start(baseUrl) {
    // The SDK's clock runs `window.skew` ms ahead, so a test can step past the access token's expiry.
    this.client = createTokendeskClient({ baseUrl, storage: localStorageAdapter(), now: () => Date.now() + window.skew });
    return this.client.installationId();
  },
  async run(fn) {
    try {
      return { ok: await fn(this.client) };
    } catch (err) {
      return { error: isSdkError(err) ? err.code : String(err) };
    }
  },
};
