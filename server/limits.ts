/**
 * What the front refuses before any framework code runs (API.md "Limits"): an over-long
 * User-Agent (Next's bot detection runs a regex that is quadratic in its length), a declared body
 * over the route's limit, a body of unknown length on a console path, a path that does not
 * decode, and a NUL anywhere in the path or query. Headers over 16 KiB never get this far: Node's parser answers 431 (`maxHeaderSize`).
 */
import type { IncomingMessage } from "node:http";
import { MAX_IMAGE_BYTES } from "@/lib/idv/images";
import { MAX_JSON_BYTES } from "./http";
import type { Family } from "./routes";

/** Node's own limit on the request line and headers together (its default, stated here on purpose). */
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_USER_AGENT_LENGTH = 1024;
/** Server actions and next-auth posts: forms, never files. */
export const MAX_CONSOLE_BODY_BYTES = 1024 * 1024;
/** A step upload: one photo and the multipart envelope around it. */
export const MAX_UPLOAD_BYTES = MAX_IMAGE_BYTES + 64 * 1024;

export interface Refusal {
  code: "bad_request" | "length_required" | "payload_too_large" | "header_too_large";
  message: string;
}

/** The largest body a path accepts (the adapters cap the stream itself at the same figure). */
export function bodyLimitOf(pathname: string, family: Family | null): number {
  if (family === null) return MAX_CONSOLE_BODY_BYTES;
  if (/^\/api\/sessions\/[^/]+\/steps\//.test(pathname)) return MAX_UPLOAD_BYTES;
  return MAX_JSON_BYTES;
}

export function hasBody(req: IncomingMessage): boolean {
  return req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
}

export function refusalOf(req: IncomingMessage, pathname: string, family: Family | null): Refusal | null {
  const ua = req.headers["user-agent"];
  if (ua !== undefined && ua.length > MAX_USER_AGENT_LENGTH) {
    return { code: "header_too_large", message: `The User-Agent header is longer than ${MAX_USER_AGENT_LENGTH} characters.` };
  }
  try {
    if (decodeURIComponent(pathname).includes("\0")) return { code: "bad_request", message: "The path contains a NUL byte." };
  } catch {
    return { code: "bad_request", message: "The path is not valid percent-encoding." };
  }
  // A query parameter is decoded leniently (bad UTF-8 becomes U+FFFD), but a NUL would reach a
  // filter or the database as is: PostgreSQL text cannot hold one.
  const url = req.url ?? "";
  const q = url.indexOf("?");
  if (q !== -1 && /%00|\0/i.test(url.slice(q))) return { code: "bad_request", message: "The query string contains a NUL byte." };
  if (hasBody(req)) {
    const limit = bodyLimitOf(pathname, family);
    const declared = req.headers["content-length"];
    if (declared !== undefined) {
      if (!/^\d+$/.test(declared)) return { code: "bad_request", message: "Content-Length is not a number." };
      if (Number(declared) > limit) return { code: "payload_too_large", message: `The body is larger than ${limit} bytes.` };
    } else if (family === null) {
      // Next reads console bodies whole; without a declared length it could not be refused before buffering.
      return { code: "length_required", message: "Send the body with a Content-Length." };
    }
  }
  return null;
}
