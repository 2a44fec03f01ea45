import { config } from "@/lib/config/env";
import { jsonError, readJson, withApiKey } from "@/lib/http";
import { createDeeplink, deeplinkInput } from "@/lib/idv/handoff";

export const dynamic = "force-dynamic";

/** POST /api/v1/deeplink?workflowId= {metadata?, locale?, ttl?} → {url, createdAt, expiresAt, workflowIds}. */
export const POST = withApiKey(
  "ephemeral_devices:write",
  async (req, { db, actor, meta }) => {
    const workflowId = new URL(req.url).searchParams.get("workflowId")?.trim();
    if (!workflowId) return jsonError("validation_failed", "workflowId: the workflowId query parameter is required.", 422, { field: "workflowId" });
    const input = await readJson(req, deeplinkInput, { optional: true });
    const link = await createDeeplink(db, actor, config().publicUrl, workflowId, input, meta);
    return Response.json(link, { headers: { "Cache-Control": "no-store" } });
  },
  { headerForms: "idv" },
);
