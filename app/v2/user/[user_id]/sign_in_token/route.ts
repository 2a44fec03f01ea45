import { z } from "zod";
import { readJson, withApiKey } from "@/lib/http";
import { issueSignInToken, MAX_SIGN_IN_TTL_SECONDS, MIN_SIGN_IN_TTL_SECONDS } from "@/lib/sign-in";

export const dynamic = "force-dynamic";

const body = z.object({
  expires_in_seconds: z
    .number("must be a number of seconds")
    .int("must be a whole number of seconds")
    .min(MIN_SIGN_IN_TTL_SECONDS, `must be at least ${MIN_SIGN_IN_TTL_SECONDS}`)
    .max(MAX_SIGN_IN_TTL_SECONDS, `must be at most ${MAX_SIGN_IN_TTL_SECONDS}`)
    .nullish(),
});

/** POST /v2/user/{user_id}/sign_in_token — a single-use sign-in token for the user's SDK. */
export const POST = withApiKey<{ user_id: string }>("sign_in_tokens:write", async (req, { db, actor, meta, params }) => {
  const { expires_in_seconds } = await readJson(req, body, { optional: true });
  const issued = await issueSignInToken(db, actor, params.user_id, { expiresInSeconds: expires_in_seconds }, meta);
  return Response.json(
    { user_id: issued.user_id, sign_in_token: issued.sign_in_token, expires_at: issued.expires_at },
    { headers: { "Cache-Control": "no-store" } },
  );
});
