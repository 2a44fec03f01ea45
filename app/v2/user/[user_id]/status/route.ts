import { z } from "zod";
import { readJson, withApiKey } from "@/lib/http";
import { setUserDisabled } from "@/lib/users";

export const dynamic = "force-dynamic";

const body = z.object({ disabled: z.boolean("must be true or false") });

/** PUT /v2/user/{user_id}/status {disabled} — 204; disabling ends every token of the user at once. */
export const PUT = withApiKey<{ user_id: string }>("users:write", async (req, { db, actor, meta, params }) => {
  const { disabled } = await readJson(req, body);
  await setUserDisabled(db, actor, params.user_id, disabled, {}, meta);
  return new Response(null, { status: 204 });
});
