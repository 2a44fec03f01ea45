/** RFC 8414 authorization server metadata of this deployment. */

import { SIGNING_ALG } from "./signing-keys";
import { REFRESH_GRANT, SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "./tokens";

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
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    // Resource servers authenticate with a Team API key (X-Vital-API-Key) holding tokens:introspect.
    introspection_endpoint_auth_methods_supported: ["none"],
    token_endpoint_auth_signing_alg_values_supported: [SIGNING_ALG],
    subject_token_types_supported: [SIGN_IN_TOKEN_TYPE],
    service_documentation: `${base}/`,
  };
}
