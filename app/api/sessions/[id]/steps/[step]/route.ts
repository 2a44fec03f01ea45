import { withErrors } from "@/lib/http";
import { submitStep } from "@/lib/idv/sessions";
import { presentedToken } from "@/lib/idv/tokens";
import { readStepInput } from "../../../_lib/request";

export const dynamic = "force-dynamic";

/** POST /api/sessions/{id}/steps/{step}: JSON `{fields}` for a form step, multipart `image` for a photo. */
export const POST = withErrors<{ id: string; step: string }>(async (req, { db, meta, params }) => {
  const input = await readStepInput(req);
  const session = await submitStep(db, presentedToken(req.headers.get("authorization")), params.id, params.step, input, meta);
  return Response.json(session, { headers: { "Cache-Control": "no-store" } });
});
