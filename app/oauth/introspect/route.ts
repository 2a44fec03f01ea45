import { apiKeyActor, authenticateApiKey } from "@/lib/api-keys";
import { presentedApiKey } from "@/lib/http";
import { introspectToken } from "@/lib/oauth/introspect";
import { oauthJson, readOAuthParams, requireParam, withOAuth } from "../_lib/oauth-route";

export const dynamic = "force-dynamic";

/** POST /oauth/introspect (RFC 7662) — for resource servers with a key holding tokens:introspect. */
export const POST = withOAuth(async (req, { db }) => {
  const key = await authenticateApiKey(db, presentedApiKey(req), "tokens:introspect");
  const params = await readOAuthParams(req);
  return oauthJson(await introspectToken(db, apiKeyActor(key), requireParam(params, "token")));
});
