import type { SignInTokenStatusJson } from "@/components/tokens/types";
import { getSignInTokenStatus } from "@/lib/sign-in";
import { listUserSessions } from "@/lib/users";
import { consoleJson } from "../../respond";

export const dynamic = "force-dynamic";

/** Live state of a sign-in token for the issue dialog: waiting, redeemed (by which installation) or expired. */
export const GET = consoleJson<{ id: string }>(async ({ actor, db, params }): Promise<SignInTokenStatusJson> => {
  const status = await getSignInTokenStatus(db, actor, params.id);
  let installationId: string | null = null;
  if (status.sessionId) {
    const sessions = await listUserSessions(db, actor, status.userId, { limit: 50 });
    installationId = sessions.find((s) => s.id === status.sessionId)?.installationId ?? null;
  }
  return {
    id: status.id,
    userId: status.userId,
    state: status.state,
    expiresAt: status.expiresAt.toISOString(),
    redeemedAt: status.redeemedAt?.toISOString() ?? null,
    sessionId: status.sessionId,
    installationId,
  };
});
