import { readJson, withApiKey } from "@/lib/http";
import { createUser, createUserInput, toApiUser } from "@/lib/users";

export const dynamic = "force-dynamic";

/** POST /v2/user — create a user in the key's environment and region. */
export const POST = withApiKey("users:write", async (req, { db, actor, meta }) => {
  const body = await readJson(req, createUserInput);
  const user = await createUser(db, actor, body, meta);
  return Response.json(toApiUser(user));
});
