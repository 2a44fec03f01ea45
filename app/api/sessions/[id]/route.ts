import { apiKeyActor, authenticateApiKey } from "@/lib/api-keys";
import { withErrors } from "@/lib/http";
import { readSessionWithKey, readSessionWithToken } from "@/lib/idv/sessions";
import { sessionCredential } from "../_lib/request";

export const dynamic = "force-dynamic";

/** GET /api/sessions/{id}: with the session's own token, or an API key with sessions:read. */
export const GET = withErrors<{ id: string }>(async (req, { db, params }) => {
  const cred = sessionCredential(req);
  const session =
    cred.kind === "token"
      ? await readSessionWithToken(db, cred.token, params.id)
      : await readSessionWithKey(db, apiKeyActor(await authenticateApiKey(db, cred.key, "sessions:read")), params.id);
  return Response.json(session, { headers: { "Cache-Control": "no-store" } });
});
