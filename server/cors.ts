/**
 * CORS for browser apps (API.md, "Browsers"): only for the exact origins in CORS_ALLOWED_ORIGINS
 * (never `*`, and never credentials — the SDK sends its bearer token in a header, not a cookie), and
 * only on what an SDK in a browser calls: the token endpoint, revocation, discovery
 * (`/.well-known/*`) and the user calls it makes with its access token.
 *
 * API-key calls never get CORS: API keys stay on servers. A preflight asking to send
 * `X-Vital-API-Key` (or any header but the ones below) is refused, and an answer to a request that
 * carries a key has no `Access-Control-Allow-Origin`, so a browser never hands it to the page.
 */
import { config } from "@/lib/config/env";
import type { RouteHandler } from "./http";

/** `public`: the OAuth and discovery endpoints. `bearer`: user calls authenticated by an access token. */
export type CorsKind = "public" | "bearer";

const ALLOWED_HEADERS: Record<CorsKind, readonly string[]> = {
  public: ["content-type"],
  bearer: ["authorization", "content-type"],
};
const EXPOSED_HEADERS = "X-Request-Id, Retry-After, WWW-Authenticate";

/** The request's Origin when it is one of the configured ones (compared as browsers send it). */
function allowedOrigin(req: Request): string | null {
  const origin = req.headers.get("origin");
  if (!origin) return null;
  return config().corsAllowedOrigins.includes(origin.toLowerCase()) ? origin : null;
}

function withHeaders(res: Response, set: Record<string, string>): Response {
  // The handlers' own Responses have mutable headers: setting them in place keeps the Response (and
  // the lean front's direct write of its body, server/front.ts) instead of copying it into a new
  // one whose body is a stream. A Response with immutable headers (Response.redirect) is copied.
  try {
    res.headers.append("Vary", "Origin");
    for (const [k, v] of Object.entries(set)) res.headers.set(k, v);
    return res;
  } catch {
    const headers = new Headers(res.headers);
    headers.append("Vary", "Origin");
    for (const [k, v] of Object.entries(set)) headers.set(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}

/** The request comes from a page of an origin that is neither listed nor tokendesk's own. */
function fromOtherOrigin(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (!origin || allowedOrigin(req)) return false;
  return origin.toLowerCase() !== new URL(config().publicUrl).origin.toLowerCase();
}

/**
 * Adds the CORS answer headers to every response of `handler` (errors too, so the page can read
 * them). `refuseOtherOrigins`: a POST from a page of an unlisted origin is answered with this and
 * never reaches the handler — a form POST needs no preflight, and the browser would otherwise let
 * it through, consuming a sign-in token for an answer the page may not read.
 */
export function withCors<P>(kind: CorsKind, handler: RouteHandler<P>, opts: { refuseOtherOrigins?: () => Response } = {}): RouteHandler<P> {
  return async (req, ctx) => {
    if (opts.refuseOtherOrigins && req.method === "POST" && fromOtherOrigin(req)) return withHeaders(opts.refuseOtherOrigins(), {});
    const res = await handler(req, ctx);
    const origin = allowedOrigin(req);
    if (!origin || req.headers.has("x-vital-api-key")) return withHeaders(res, {});
    if (kind === "bearer" && !/^Bearer\s/i.test(req.headers.get("authorization") ?? "")) return withHeaders(res, {});
    return withHeaders(res, { "Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSED_HEADERS });
  };
}

/**
 * The OPTIONS answer for a CORS route: 204 with the allow headers when the origin, method and every
 * requested header are allowed; 204 without them (which the browser takes as a refusal) otherwise.
 */
export function corsPreflight(kind: CorsKind, methods: readonly string[]): RouteHandler<Record<string, string>> {
  return async (req) => {
    const headers = new Headers({ Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers", "Cache-Control": "no-store" });
    const origin = allowedOrigin(req);
    const method = req.headers.get("access-control-request-method")?.trim().toUpperCase() ?? "";
    const asked = (req.headers.get("access-control-request-headers") ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    if (origin && methods.includes(method) && asked.every((h) => ALLOWED_HEADERS[kind].includes(h))) {
      headers.set("Access-Control-Allow-Origin", origin);
      headers.set("Access-Control-Allow-Methods", methods.join(", "));
      headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS[kind].join(", "));
      headers.set("Access-Control-Max-Age", "600");
    }
    return new Response(null, { status: 204, headers });
  };
}
