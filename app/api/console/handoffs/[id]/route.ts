import { getDb } from "@/db";
import { errorResponse, jsonError } from "@/lib/http";
import { getHandoff } from "@/lib/idv/console";
import { requestMetaFrom } from "@/lib/next/request-meta";
import { currentStaff } from "@/lib/next/session";

export const dynamic = "force-dynamic";

/** GET /api/console/handoffs/{id}: a handoff's live status for the console (staff session cookie). */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const actor = await currentStaff();
  if (!actor) return jsonError("unauthorized", "Sign in to see handoffs.", 401);
  try {
    const h = await getHandoff(await getDb(), actor, (await params).id);
    return Response.json(
      {
        id: h.id,
        status: h.status,
        expiresAt: h.expiresAt,
        submittedAt: h.submittedAt,
        steps: h.steps.map((s) => ({ id: s.id, label: s.label, completed: s.completed })),
      },
      { headers: { "Cache-Control": "no-store" } },
    );
  } catch (err) {
    return errorResponse(err, requestMetaFrom(req.headers));
  }
}
