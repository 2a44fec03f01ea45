// One app process in the two-process race (tests/http/sdk-package.test.ts), run from the project
// the packed SDK was installed into. `signin <token>` signs in and exits; `serve` reads commands
// from stdin: `go <skewMs>` sets the SDK's clock that far ahead (past the access token's expiry)
// and makes 50 concurrent calls, answering one JSON line with their statuses.
import readline from "node:readline";
import { createTokendeskClient, isSdkError } from "@tokendesk/sdk";
import { fileStorage } from "@tokendesk/sdk/node";

const [mode, baseUrl, file, arg] = process.argv.slice(2);
let skew = 0;
const sdk = createTokendeskClient({ baseUrl, storage: fileStorage(file), now: () => Date.now() + skew });

if (mode === "signin") {
  const { userId } = await sdk.signIn(arg);
  console.log(JSON.stringify({ userId }));
} else {
  const userId = await sdk.currentUserId();
  const lines = readline.createInterface({ input: process.stdin });
  console.log(JSON.stringify({ ready: true }));
  for await (const line of lines) {
    const [command, value] = line.split(" ");
    if (command !== "go") break;
    skew = Number(value);
    const statuses = await Promise.all(
      Array.from({ length: 50 }, () =>
        sdk.fetch(`/v2/user/${userId}`).then(
          (r) => r.status,
          (e) => (isSdkError(e) ? e.code : String(e)),
        ),
      ),
    );
    console.log(JSON.stringify({ statuses, status: [...(await sdk.status())] }));
  }
}
