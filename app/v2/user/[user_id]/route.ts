import { withApiKey } from "@/lib/http";
import { recordApiKeyInstallation } from "@/lib/oauth/migration";
import { deleteUser, getUser, toApiUser } from "@/lib/users";
import { withApiKeyOrBearer } from "../../_lib/user-auth";

export const dynamic = "force-dynamic";

type Params = { user_id: string };

/** GET /v2/user/{user_id} — with a key (users:read) or the user's own access token. */
export const GET = withApiKeyOrBearer<Params>("users:read", async (req, { db, actor, key, bearerUser, params }) => {
  const user = await getUser(db, actor, params.user_id, bearerUser);
  if (user.status === "deleted") return Response.json({ error: { code: "user_not_found", message: "No such user." } }, { status: 404 });
  if (key) {
    // An SDK in API-key mode: remember the installation so the migration report can follow it.
    await recordApiKeyInstallation(db, { apiKeyId: key.id, userId: user.id, installationId: req.headers.get("x-installation-id") });
  }
  return Response.json(toApiUser(user));
});

/** DELETE /v2/user/{user_id} — 204; the user's SDK sessions end. */
export const DELETE = withApiKey<Params>("users:write", async (_req, { db, actor, meta, params }) => {
  await deleteUser(db, actor, params.user_id, {}, meta);
  return new Response(null, { status: 204 });
});
