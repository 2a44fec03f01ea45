/**
 * Limits on failed `/oauth/token` grants (invalid_grant: unknown, expired, used or reused sign-in and
 * refresh tokens), per client address and per client (the SDK installation, or the client_id an
 * OAuth library sends). Only failures count: a grant is tried first, and an SDK refreshing as it
 * should never meets these limits. Past one, failures are answered 429 `rate_limited` (RFC 6749
 * shape, Retry-After) instead of 400 `invalid_grant` until the minute is over.
 */
import type { Executor } from "@/db/client";
import type { RequestMeta } from "@/lib/context";
import { clientAddressOf, FailureLimit, humanDuration, keyPart, type Limit } from "@/lib/rate-limit";
import { OAuthError } from "./errors";

export const GRANT_FAILURE_LIMIT_PER_ADDRESS: Limit = { max: 30, windowSeconds: 60 };
export const GRANT_FAILURE_LIMIT_PER_CLIENT: Limit = { max: 10, windowSeconds: 60 };
const perAddress = new FailureLimit(GRANT_FAILURE_LIMIT_PER_ADDRESS);
const perClient = new FailureLimit(GRANT_FAILURE_LIMIT_PER_CLIENT);

/** For tests that exercise the limits: forget which buckets this process saw blocked. */
export function forgetGrantFailureBlocks(): void {
  perAddress.forget();
  perClient.forget();
}

/**
 * Runs a grant; when it fails with invalid_grant, counts the failure against the client's address
 * and then the client, and answers 429 instead once either is full. `client` is what the request
 * says it is (installation_id, else client_id), hashed into the bucket's key.
 */
export async function limitGrantFailures<T>(db: Executor, meta: RequestMeta, client: string | null, grant: () => Promise<T>): Promise<T> {
  try {
    return await grant();
  } catch (err) {
    if (!(err instanceof OAuthError) || err.error !== "invalid_grant") throw err;
    const address = clientAddressOf(meta);
    let refused = address ? await perAddress.fail(db, [`oauth-token:ip:${address}`]) : null;
    const by = refused ? "address" : "client";
    if (!refused && client) refused = await perClient.fail(db, [`oauth-token:client:${keyPart(client)}`]);
    if (!refused) throw err;
    throw new OAuthError(
      "rate_limited",
      `Too many failed token requests from this ${by}; try again in ${humanDuration(refused.retryAfterSeconds)}.`,
      429,
      refused.retryAfterSeconds,
    );
  }
}
