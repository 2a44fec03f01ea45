import { revokeToken } from "@/lib/oauth/revoke";
import { oauthJson, readOAuthParams, requireParam, withOAuth } from "../_lib/oauth-route";

export const dynamic = "force-dynamic";

/** POST /oauth/revoke (RFC 7009) — 200 whatever the token was; a refresh token ends its family. */
export const POST = withOAuth(async (req, { db, meta }) => {
  const params = await readOAuthParams(req);
  await revokeToken(db, requireParam(params, "token"), meta);
  return oauthJson({});
});
