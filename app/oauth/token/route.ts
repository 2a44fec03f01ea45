import { OAuthError } from "@/lib/oauth/errors";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { refreshSdkSession } from "@/lib/oauth/refresh";
import { ACCESS_TOKEN_TYPE, REFRESH_GRANT, SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "@/lib/oauth/tokens";
import { oauthJson, readOAuthParams, requireParam, withOAuth } from "../_lib/oauth-route";

export const dynamic = "force-dynamic";

/**
 * POST /oauth/token — public clients (no client authentication; a `client_id` a library sends is
 * ignored): the token-exchange grant for sign-in tokens (optionally migrating from an API key) and
 * the refresh grant.
 */
export const POST = withOAuth(async (req, { db, meta }) => {
  const params = await readOAuthParams(req);
  const grantType = requireParam(params, "grant_type");
  if (grantType === TOKEN_EXCHANGE_GRANT) {
    const subjectToken = requireParam(params, "subject_token");
    const subjectTokenType = requireParam(params, "subject_token_type");
    if (subjectTokenType !== SIGN_IN_TOKEN_TYPE) {
      throw new OAuthError("invalid_request", `subject_token_type must be ${SIGN_IN_TOKEN_TYPE}.`);
    }
    if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new OAuthError("invalid_request", `requested_token_type, when given, must be ${ACCESS_TOKEN_TYPE}.`);
    }
    const apiKey = req.headers.get("x-vital-api-key")?.trim() || null;
    const previousUserId = params.previous_user_id?.trim() || null;
    const migration = apiKey || previousUserId ? { apiKey, previousUserId } : null;
    return oauthJson(await exchangeSignInToken(db, { signInToken: subjectToken, installationId: params.installation_id, migration }, meta));
  }
  if (grantType === REFRESH_GRANT) {
    return oauthJson(await refreshSdkSession(db, requireParam(params, "refresh_token"), meta));
  }
  throw new OAuthError("unsupported_grant_type", `The grant type ${grantType.slice(0, 100)} is not supported; use ${TOKEN_EXCHANGE_GRANT} or refresh_token.`);
});
