#!/usr/bin/env node
/**
 * A real OpenID Connect provider (panva's oidc-provider) on loopback for the end-to-end tests: one
 * confidential client for tokendesk, the library's development login and consent pages, PKCE, and
 * accounts made up from the login name, so a test picks its identity by what it types:
 *
 *   sso-admin   → email sso-admin@idp.test,   groups ["td-admins"]   (tokendesk maps to admin)
 *   sso-support → email sso-support@idp.test, groups ["td-support"]  (support)
 *   sso-nobody  → email sso-nobody@idp.test,  groups []              (no role: refused)
 * Any other login gets the groups named after a "+" (e.g. "jo+td-admins+x") and none otherwise.
 */
import { Provider } from "oidc-provider";

const port = Number(process.env.E2E_OIDC_PORT ?? 3211);
const tokendesk = process.env.E2E_TOKENDESK_URL ?? `http://localhost:${process.env.E2E_PORT ?? 3210}`;
const issuer = `http://127.0.0.1:${port}`;

export const E2E_OIDC_CLIENT_ID = "tokendesk-e2e";
export const E2E_OIDC_CLIENT_SECRET = "tokendesk-e2e-client-secret-0123456789";

const KNOWN_GROUPS = { "sso-admin": ["td-admins"], "sso-support": ["td-support"], "sso-nobody": [] };

function accountOf(login) {
  const name = String(login).trim().toLowerCase();
  const [base, ...extra] = name.split("+");
  return {
    sub: `idp|${name}`,
    email: `${base}@idp.test`,
    email_verified: true,
    name: base.replace(/[-_.]+/g, " ").replace(/\b\w/g, (c) => c.toUpperCase()),
    groups: KNOWN_GROUPS[name] ?? extra,
  };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: E2E_OIDC_CLIENT_ID,
      client_secret: E2E_OIDC_CLIENT_SECRET,
      redirect_uris: [`${tokendesk}/api/auth/callback/oidc`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  // Development-only login and consent pages: any login name, any password.
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  // tokendesk reads the ID token's claims (not userinfo), so release them there.
  conformIdTokenClaims: false,
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
  // The dev login form posts the login name as the account id.
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => accountOf(id.startsWith("idp|") ? id.slice(4) : id),
  }),
  // Ephemeral keys and cookie secrets: this provider lives as long as one test run.
  cookies: { keys: ["e2e-oidc-provider-cookie-key"] },
});
provider.proxy = false;

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`e2e OIDC provider at ${issuer} (client ${E2E_OIDC_CLIENT_ID}, redirect to ${tokendesk})`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
