/** RFC 8414 authorization server metadata of this deployment. */

import { REFRESH_GRANT, SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "./tokens";

/** Not in the IANA registry: a Team API key holding tokens:introspect, sent as X-Vital-API-Key. */
export const INTROSPECTION_AUTH_METHOD = "tokendesk_api_key";

export function authorizationServerMetadata(publicUrl: string) {
  const base = publicUrl.replace(/\/$/, "");
  return {
    issuer: base,
    token_endpoint: `${base}/oauth/token`,
    revocation_endpoint: `${base}/oauth/revoke`,
    introspection_endpoint: `${base}/oauth/introspect`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: [TOKEN_EXCHANGE_GRANT, REFRESH_GRANT],
    // No authorization endpoint: sign-in tokens come from the customer's backend, not a browser.
    response_types_supported: [] as string[],
    // Public clients: the token and revocation endpoints take no client authentication (so there is
    // no token_endpoint_auth_signing_alg_values_supported either: that is for JWT client auth).
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    // Introspection is not open: a resource server authenticates with a Team API key holding
    // tokens:introspect, in the X-Vital-API-Key header. No registered method says that, so this is
    // tokendesk's own name for it (RFC 8414 §2 allows values outside the registry; a client that does
    // not know it must not assume it may call unauthenticated).
    introspection_endpoint_auth_methods_supported: [INTROSPECTION_AUTH_METHOD],
    subject_token_types_supported: [SIGN_IN_TOKEN_TYPE],
    service_documentation: `${base}/`,
  };
}
