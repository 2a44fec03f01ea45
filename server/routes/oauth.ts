/**
 * The OAuth 2.0 token service for SDKs and resource servers: token exchange and refresh, revocation
 * (RFC 7009), introspection (RFC 7662), and the discovery documents (RFC 8414 metadata, JWKS).
 */
import { getDb } from "@/db";
import { apiKeyActor, authenticateApiKey } from "@/lib/api-keys";
import { config } from "@/lib/config/env";
import { log } from "@/lib/log";
import { OAuthError } from "@/lib/oauth/errors";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { limitGrantFailures } from "@/lib/oauth/grant-limits";
import { introspectToken } from "@/lib/oauth/introspect";
import { authorizationServerMetadata } from "@/lib/oauth/metadata";
import { refreshSdkSession } from "@/lib/oauth/refresh";
import { revokeToken } from "@/lib/oauth/revoke";
import { publicJwks } from "@/lib/oauth/signing-keys";
import { ACCESS_TOKEN_TYPE, REFRESH_GRANT, SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "@/lib/oauth/tokens";
import { corsPreflight, withCors } from "../cors";
import { jsonResponse } from "../http";
import { presentedApiKey } from "../machine-api";
import { oauthJson, readOAuthParams, requireParam, withOAuth } from "../oauth";

function originRefused(): Response {
  return oauthJson({ error: "invalid_request", error_description: "origin_not_allowed: this web origin is not in CORS_ALLOWED_ORIGINS." }, 400);
}

/**
 * POST /oauth/token — public clients (no client authentication; a `client_id` a library sends is
 * ignored but for counting failures): the token-exchange grant for sign-in tokens (optionally
 * migrating from an API key) and the refresh grant. Failed grants are limited per address and client.
 */
export const tokenRoute = withCors(
  "public",
  withOAuth(async (req, { db, meta }) => {
    const params = await readOAuthParams(req);
    const grantType = requireParam(params, "grant_type");
    // Who the failure limits count as "the client": the SDK installation, else an OAuth library's client_id.
    const client = params.installation_id?.trim() || params.client_id?.trim() || null;
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
      return oauthJson(
        await limitGrantFailures(db, meta, client, () =>
          exchangeSignInToken(db, { signInToken: subjectToken, installationId: params.installation_id, migration }, meta),
        ),
      );
    }
    if (grantType === REFRESH_GRANT) {
      const refreshToken = requireParam(params, "refresh_token");
      return oauthJson(await limitGrantFailures(db, meta, client, () => refreshSdkSession(db, refreshToken, meta)));
    }
    throw new OAuthError("unsupported_grant_type", `The grant type ${grantType.slice(0, 100)} is not supported; use ${TOKEN_EXCHANGE_GRANT} or refresh_token.`);
  }),
  { refuseOtherOrigins: originRefused },
);
export const tokenPreflight = corsPreflight("public", ["POST"]);

/** POST /oauth/revoke (RFC 7009) — 200 whatever the token was; a refresh token ends its family. */
export const revokeRoute = withCors(
  "public",
  withOAuth(async (req, { db, meta }) => {
    const params = await readOAuthParams(req);
    await revokeToken(db, requireParam(params, "token"), meta);
    return oauthJson({});
  }),
  { refuseOtherOrigins: originRefused },
);
export const revokePreflight = corsPreflight("public", ["POST"]);

/** POST /oauth/introspect (RFC 7662) — for resource servers with a key holding tokens:introspect. */
export const introspectRoute = withOAuth(async (req, { db, meta }) => {
  const key = await authenticateApiKey(db, presentedApiKey(req), "tokens:introspect", meta);
  const params = await readOAuthParams(req);
  return oauthJson(await introspectToken(db, apiKeyActor(key), requireParam(params, "token")));
});

/** GET /.well-known/oauth-authorization-server — RFC 8414 metadata; the issuer is PUBLIC_URL. */
export const metadataRoute = withCors("public", async () =>
  jsonResponse(authorizationServerMetadata(config().publicUrl), { headers: { "Cache-Control": "public, max-age=300" } }),
);

/** GET /.well-known/jwks.json — current and previous public keys (until every token they signed has expired). */
export const jwksRoute = withCors("public", async () => {
  try {
    return jsonResponse(await publicJwks(await getDb()), { headers: { "Cache-Control": "public, max-age=60" } });
  } catch (err) {
    log().error({ err }, "jwks: the keys cannot be read");
    return jsonResponse({ error: { code: "unavailable", message: "The keys cannot be read right now." } }, { status: 503 });
  }
});
/** One preflight answer for both discovery documents (GET only). */
export const discoveryPreflight = corsPreflight("public", ["GET"]);
