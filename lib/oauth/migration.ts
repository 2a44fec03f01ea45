/**
 * API-key installations: an SDK still in API-key mode calls the user endpoints with
 * `X-Vital-API-Key` and `X-Installation-Id`; we remember (key, user, installation, first and last
 * seen) so staff can see which installations still run on API keys. `exchangeSignInToken` with a
 * `migration` option marks the row migrated.
 */
import { sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { apiKeyInstallations } from "@/db/schema";
import { MAX_INSTALLATION_ID_LENGTH } from "./exchange";

/** Cheap on the hot path: an existing row is rewritten at most once a minute. */
export async function recordApiKeyInstallation(
  db: Executor,
  input: { apiKeyId: string; userId: string; installationId: string | null | undefined },
  now: Date = new Date(),
): Promise<boolean> {
  const installationId = input.installationId?.trim();
  if (!installationId || installationId.length > MAX_INSTALLATION_ID_LENGTH || /[\u0000-\u001f]/.test(installationId)) return false;
  const written = await db
    .insert(apiKeyInstallations)
    .values({ apiKeyId: input.apiKeyId, userId: input.userId, installationId, firstSeenAt: now, lastSeenAt: now })
    .onConflictDoUpdate({
      target: [apiKeyInstallations.apiKeyId, apiKeyInstallations.userId, apiKeyInstallations.installationId],
      set: { lastSeenAt: now },
      // An ISO string with a cast: postgres.js cannot bind a bare Date inside a raw sql fragment.
      setWhere: sql`${apiKeyInstallations.lastSeenAt} < ${new Date(now.getTime() - 60_000).toISOString()}::timestamptz`,
    })
    .returning({ id: apiKeyInstallations.installationId });
  return written.length > 0;
}
