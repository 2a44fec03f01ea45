import { withApiKey } from "@/lib/http";
import { resolveByClientUserId, toApiUser } from "@/lib/users";

export const dynamic = "force-dynamic";

/** GET /v2/user/resolve/{client_user_id} — the key's user with that client user id, or 404. */
export const GET = withApiKey<{ client_user_id: string }>("users:read", async (_req, { db, actor, params }) => {
  const user = await resolveByClientUserId(db, actor, params.client_user_id);
  return Response.json(toApiUser(user));
});
