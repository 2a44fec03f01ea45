import { z } from "zod";
import { readJson, withApiKey } from "@/lib/http";
import { mintEphemeralToken, ttlSchema } from "@/lib/idv/sessions";

export const dynamic = "force-dynamic";

const body = z.object({ ttl: ttlSchema.optional() });

/** POST /api/device/ephemeral {ttl?} → {authorization, expiresAt}: a token for one IDV session. */
export const POST = withApiKey(
  "ephemeral_devices:write",
  async (req, { db, actor, meta }) => {
    const input = await readJson(req, body, { optional: true });
    const minted = await mintEphemeralToken(db, actor, { ttl: input.ttl }, meta);
    return Response.json({ authorization: minted.authorization, expiresAt: minted.expiresAt }, { headers: { "Cache-Control": "no-store" } });
  },
  { headerForms: "idv" },
);
