import { withErrors } from "@/lib/http";
import { submitSession } from "@/lib/idv/sessions";
import { presentedToken } from "@/lib/idv/tokens";

export const dynamic = "force-dynamic";

/** POST /api/sessions/{id}/submit: every step captured → submitted (once). */
export const POST = withErrors<{ id: string }>(async (req, { db, meta, params }) => {
  const session = await submitSession(db, presentedToken(req.headers.get("authorization")), params.id, meta);
  return Response.json(session, { headers: { "Cache-Control": "no-store" } });
});
