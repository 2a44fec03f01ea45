import { z } from "zod";
import { jsonError, readJson, withErrors } from "@/lib/http";
import { localeSchema, metadataSchema, startSession } from "@/lib/idv/sessions";
import { presentedToken } from "@/lib/idv/tokens";

export const dynamic = "force-dynamic";

const body = z.object({ metadata: metadataSchema.optional(), locale: localeSchema.optional() });

/** POST /api/sessions?workflowId= with `Authorization: <token>`: the token starts its one session. */
export const POST = withErrors(async (req, { db, meta }) => {
  const workflowId = new URL(req.url).searchParams.get("workflowId")?.trim();
  if (!workflowId) return jsonError("validation_failed", "workflowId: the workflowId query parameter is required.", 422, { field: "workflowId" });
  const input = await readJson(req, body, { optional: true });
  const session = await startSession(
    db,
    presentedToken(req.headers.get("authorization")),
    { workflowId, metadata: input.metadata, locale: input.locale },
    meta,
  );
  return Response.json(session, { headers: { "Cache-Control": "no-store" } });
});
