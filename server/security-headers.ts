/**
 * Every security header tokendesk sends, decided in this one place and applied by the front
 * (server/front.ts) to every answer, before the machine API or Next writes its own:
 *
 * - pages (Next): a Content-Security-Policy with a fresh nonce per request. Next reads the nonce
 *   from the request's `content-security-policy` header and puts it on its own scripts, so the
 *   front sets the same policy on the request it hands to Next and on the response; scripts
 *   without the nonce (an injected `<script>`) do not run. Framing is refused (`frame-ancestors
 *   'none'` and, for older browsers, `X-Frame-Options: DENY`): the console acts with a live admin
 *   session. The public IDV pages (`/capture`, `/mobile`, `/h/*`) carry a token in their URL, so
 *   they send no Referer anywhere (`Referrer-Policy: no-referrer`).
 * - the machine API: JSON only, so a policy that allows nothing and no framing.
 * - everything: `X-Content-Type-Options: nosniff`, and HSTS when PUBLIC_URL is https.
 */
import { randomBytes } from "node:crypto";

export interface SecurityHeaderOptions {
  /** PUBLIC_URL: HSTS only when people reach tokendesk over https. */
  publicUrl: string;
  /** `npm run dev`: Next's dev runtime evaluates code (React refresh, source maps). */
  dev?: boolean;
}

/** Pages whose URLs carry an end user's token. */
const TOKEN_IN_URL = /^\/(capture|mobile|h)(\/|$)/;

const HSTS = "max-age=63072000; includeSubDomains";

export function pageCsp(nonce: string, opts: SecurityHeaderOptions): string {
  return [
    "default-src 'self'",
    // 'strict-dynamic': scripts Next's nonce'd scripts load may run; 'self' is the CSP2 fallback.
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    // React, Radix and recharts set style attributes; a nonce cannot cover those.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(opts.publicUrl.startsWith("https:") ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The headers for one answer. `page: true` is a path Next renders (console, public pages,
 * next-auth): it gets a nonce, which the caller also hands to Next on the request.
 */
export function securityHeaders(pathname: string, page: boolean, opts: SecurityHeaderOptions): { nonce: string | null; headers: Record<string, string> } {
  const headers: Record<string, string> = { "X-Content-Type-Options": "nosniff" };
  if (opts.publicUrl.startsWith("https:")) headers["Strict-Transport-Security"] = HSTS;
  if (!page) {
    headers["Content-Security-Policy"] = API_CSP;
    return { nonce: null, headers };
  }
  const nonce = randomBytes(16).toString("base64");
  headers["Content-Security-Policy"] = pageCsp(nonce, opts);
  headers["X-Frame-Options"] = "DENY";
  headers["Referrer-Policy"] = TOKEN_IN_URL.test(pathname) ? "no-referrer" : "same-origin";
  return { nonce, headers };
}
