/**
 * Links survive sign-in (issue 14, point 3): a console page opened signed out sends the visitor to
 * `/login?callbackUrl=<the page>`, and the sign-in (password or SSO) ends there — but only on one
 * of this console's own paths, so a crafted link cannot turn the sign-in page into an open redirect.
 * next-auth's own redirect callback (server/next-auth.ts) applies the same rule to SSO.
 */

/** The request header the front (server/front.ts) sets to the page's path and query for the page itself. */
export const REQUEST_PATH_HEADER = "x-tokendesk-path";

const MAX_LENGTH = 2000;
const PROBE = "https://console.invalid";

/** `raw` as a path of this console (with its query and fragment), or "/" when it is anything else. */
export function safeReturnPath(raw: unknown, publicUrl?: string): string {
  if (typeof raw !== "string" || !raw || raw.length > MAX_LENGTH) return "/";
  // Backslashes are slashes to browsers; control characters and spaces are never part of our paths.
  if (/[\\\u0000-\u0020\u007f]/.test(raw) || /%5c/i.test(raw)) return "/";
  let candidate = raw;
  if (publicUrl && !raw.startsWith("/")) {
    // An absolute URL of this console (next-auth passes those) becomes its path.
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return "/";
    }
    if (url.origin !== new URL(publicUrl).origin) return "/";
    candidate = `${url.pathname}${url.search}${url.hash}`;
  }
  if (!candidate.startsWith("/") || candidate.startsWith("//")) return "/";
  let parsed: URL;
  try {
    parsed = new URL(candidate, PROBE);
  } catch {
    return "/";
  }
  if (parsed.origin !== PROBE) return "/";
  if (parsed.pathname === "/login" || parsed.pathname.startsWith("/api/") || parsed.pathname.startsWith("/_next/")) return "/";
  // Next's client navigations carry a cache-busting `_rsc`; the page is the same without it.
  parsed.searchParams.delete("_rsc");
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/** The sign-in page for a visitor who opened `path` (its `error` first when a session had ended). */
export function loginPathFor(path: string | null | undefined, error?: string | null): string {
  const back = safeReturnPath(path);
  const params = new URLSearchParams();
  if (error) params.set("error", error);
  if (back !== "/") params.set("callbackUrl", back);
  const q = params.toString();
  return q ? `/login?${q}` : "/login";
}
