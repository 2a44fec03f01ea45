/**
 * The machine API: every route the lean front serves itself (server.ts → server/front.ts), with the
 * adapter that answers it. Next's `app/` route files re-export the same adapters, so both paths run
 * one function per route. Tests derive their route lists from this table (the bad-input matrix, the
 * OpenAPI coverage), so a route added here is covered by them at once.
 */
import type { RouteHandler } from "../http";
import * as devices from "./devices";
import * as docs from "./docs";
import * as health from "./health";
import * as idv from "./idv";
import * as oauth from "./oauth";
import * as users from "./users";

/** OPTIONS is listed only for the CORS preflights of the routes browsers may call (server/cors.ts). */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/** The wire family decides the shape of every answer, errors and 404/405 included. */
export type Family = "json" | "oauth" | "telematics";

export interface MachineRoute {
  method: Method;
  /** Hono's path syntax: `:name` for a parameter, named as in the app/ folder (`[user_id]`). */
  path: string;
  family: Family;
  // biome-ignore lint/suspicious/noExplicitAny: each route has its own params; the front passes what the path named
  handler: RouteHandler<any>;
}

export const MACHINE_ROUTES: readonly MachineRoute[] = [
  { method: "GET", path: "/api/live", family: "json", handler: health.liveRoute },
  { method: "GET", path: "/api/health", family: "json", handler: health.healthRoute },

  { method: "POST", path: "/v2/user", family: "json", handler: users.createUserRoute },
  { method: "GET", path: "/v2/user", family: "json", handler: users.listUsersRoute },
  { method: "GET", path: "/v2/user/resolve/:client_user_id", family: "json", handler: users.resolveUserRoute },
  { method: "GET", path: "/v2/user/:user_id", family: "json", handler: users.getUserRoute },
  { method: "DELETE", path: "/v2/user/:user_id", family: "json", handler: users.deleteUserRoute },
  { method: "OPTIONS", path: "/v2/user/:user_id", family: "json", handler: users.userPreflight },
  { method: "PUT", path: "/v2/user/:user_id/status", family: "json", handler: users.setUserStatusRoute },
  { method: "POST", path: "/v2/user/:user_id/sign_in_token", family: "json", handler: users.issueSignInTokenRoute },
  { method: "GET", path: "/v2/user/:user_id/sign_in_tokens", family: "json", handler: users.listSignInTokensRoute },
  { method: "DELETE", path: "/v2/user/:user_id/sign_in_tokens/:token_id", family: "json", handler: users.revokeSignInTokenRoute },
  { method: "GET", path: "/v2/users", family: "json", handler: users.searchUsersRoute },

  { method: "POST", path: "/oauth/token", family: "oauth", handler: oauth.tokenRoute },
  { method: "OPTIONS", path: "/oauth/token", family: "oauth", handler: oauth.tokenPreflight },
  { method: "POST", path: "/oauth/revoke", family: "oauth", handler: oauth.revokeRoute },
  { method: "OPTIONS", path: "/oauth/revoke", family: "oauth", handler: oauth.revokePreflight },
  { method: "POST", path: "/oauth/introspect", family: "oauth", handler: oauth.introspectRoute },
  { method: "GET", path: "/.well-known/oauth-authorization-server", family: "json", handler: oauth.metadataRoute },
  { method: "OPTIONS", path: "/.well-known/oauth-authorization-server", family: "json", handler: oauth.discoveryPreflight },
  { method: "GET", path: "/.well-known/jwks.json", family: "json", handler: oauth.jwksRoute },
  { method: "OPTIONS", path: "/.well-known/jwks.json", family: "json", handler: oauth.discoveryPreflight },

  { method: "POST", path: "/api/device/ephemeral", family: "json", handler: idv.mintEphemeralTokenRoute },
  { method: "POST", path: "/api/sessions", family: "json", handler: idv.startSessionRoute },
  { method: "GET", path: "/api/sessions/:id", family: "json", handler: idv.readSessionRoute },
  { method: "POST", path: "/api/sessions/:id/steps/:step", family: "json", handler: idv.submitStepRoute },
  { method: "POST", path: "/api/sessions/:id/submit", family: "json", handler: idv.submitSessionRoute },
  { method: "POST", path: "/api/v1/deeplink", family: "json", handler: idv.createDeeplinkRoute },

  { method: "POST", path: "/v1/Registration/create", family: "telematics", handler: devices.registerDeviceRoute },
  { method: "POST", path: "/v1/Auth/Login", family: "telematics", handler: devices.loginDeviceRoute },
  { method: "POST", path: "/v1/Auth/RefreshToken", family: "telematics", handler: devices.refreshDeviceRoute },
  { method: "GET", path: "/v1/Devices/me", family: "telematics", handler: devices.deviceSelfRoute },

  { method: "GET", path: "/openapi.json", family: "json", handler: docs.openApiRoute },
  { method: "GET", path: "/docs/api", family: "json", handler: docs.docsPageRoute },
  { method: "GET", path: "/docs/api/reference.js", family: "json", handler: docs.docsScriptRoute },
];

/**
 * The path prefixes the machine API owns: the front answers everything under them itself (unknown
 * paths and methods in the family's shape) and hands every other path to Next.
 */
export const MACHINE_PREFIXES: ReadonlyArray<{ prefix: string; family: Family }> = [
  { prefix: "/v2/", family: "json" },
  { prefix: "/v1/", family: "telematics" },
  { prefix: "/oauth/", family: "oauth" },
  { prefix: "/.well-known/", family: "json" },
  { prefix: "/api/device/", family: "json" },
  { prefix: "/api/sessions", family: "json" },
  { prefix: "/api/v1/", family: "json" },
  { prefix: "/api/live", family: "json" },
  { prefix: "/api/health", family: "json" },
  { prefix: "/openapi.json", family: "json" },
  { prefix: "/docs/api", family: "json" },
];

/** The family that owns a path, or null when the path is Next's (console, public pages, /api/auth, /api/console). */
export function machineFamilyOf(pathname: string): Family | null {
  for (const { prefix, family } of MACHINE_PREFIXES) {
    if (prefix.endsWith("/") ? pathname.startsWith(prefix) : pathname === prefix || pathname.startsWith(`${prefix}/`)) return family;
  }
  return null;
}
