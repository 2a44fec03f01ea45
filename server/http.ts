/**
 * What every adapter needs from a request, whichever family it belongs to: who sent it (the
 * request id and, behind a trusted proxy, the client's address) and its body, read within a limit.
 * Web-standard `Request` only, so the lean front and Next's route handlers share it.
 */
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { config } from "@/lib/config/env";
import type { RequestMeta } from "@/lib/context";
import { DomainError } from "@/lib/errors";

/** The body limit of every JSON route unless it says otherwise (API.md: 64 KiB). */
export const MAX_JSON_BYTES = 64 * 1024;

/**
 * The client IP, only from the header of a configured trusted proxy and only if it parses as an IP:
 * without a proxy in front, any such header is the client's own word and is ignored.
 */
export function clientIp(h: Headers): string | null {
  const header = config().trustedProxyHeader;
  if (!header) return null;
  const raw = h.get(header);
  if (!raw) return null;
  // X-Forwarded-For: "client, proxy1, proxy2" — the proxy we trust appended the last hop, so the
  // client is the right-most entry the proxy itself wrote: with one trusted proxy, the last one.
  const candidate =
    header === "x-forwarded-for"
      ? raw
          .split(",")
          .map((s) => s.trim())
          .pop()
      : raw.trim();
  return candidate && isIP(candidate) ? candidate : null;
}

/**
 * The socket's peer address, which the front (server/front.ts) writes on every request after
 * removing whatever a client sent under that name. Rate limits count clients by it when no trusted
 * proxy is configured; it is never audited as the client's IP (it may be a load balancer's).
 */
export const PEER_ADDRESS_HEADER = "x-tokendesk-peer-address";

/**
 * The address rate limits count a client by: behind a trusted proxy the client IP its header names
 * (never the proxy's own address, which every client shares); without one, the socket's peer.
 */
export function clientAddressFrom(h: Headers, trustedIp: string | null): string | null {
  if (config().trustedProxyHeader) return trustedIp;
  const peer = h.get(PEER_ADDRESS_HEADER)?.trim();
  return peer && isIP(peer) ? peer : null;
}

export function requestMetaFrom(h: Headers): RequestMeta {
  const given = h.get("x-request-id");
  const ip = clientIp(h);
  return {
    requestId: given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID(),
    ip,
    userAgent: h.get("user-agent"),
    clientAddress: clientAddressFrom(h, ip),
  };
}

/** Reads at most `maxBytes` of the body, refusing more (413) without buffering it all. */
export async function readBodyBytes(req: Request, maxBytes: number, tooLarge = `The body is larger than ${maxBytes} bytes.`): Promise<Buffer> {
  const length = req.headers.get("content-length");
  if (length !== null) {
    if (Number(length) > maxBytes) throw new DomainError("payload_too_large", tooLarge);
    // A declared length within the limit: the HTTP parser delivers exactly that many bytes, so the
    // body is read whole — on the lean front straight off the socket, without a web stream (a
    // ReadableStream reader costs ~0.4 ms of CPU per request there). Checked again for a hand-made
    // Request whose header does not match its body.
    const body = Buffer.from(await req.arrayBuffer());
    if (body.byteLength > maxBytes) throw new DomainError("payload_too_large", tooLarge);
    return body;
  }
  // No declared length (chunked): read the stream, refusing as soon as it passes the limit.
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      // Not cancelled: on the front, cancelling destroys the request and with it the socket, and the
      // kernel's reset can reach the client before our 413. The front answers, closes the connection
      // in stages and drops the rest (server/front.ts, machineListener).
      reader.releaseLock();
      throw new DomainError("payload_too_large", tooLarge);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** How deep a JSON body may nest: no request of the API needs more than a few levels. */
export const MAX_JSON_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string may not enter tokendesk, or null: a NUL (PostgreSQL text cannot hold one) or a lone
 * UTF-16 surrogate (not Unicode; PostgreSQL refuses its UTF-8). Every string a machine route reads
 * passes here — JSON values and keys, form and query parameters — so no field can reach the
 * database with either and come back as a 500.
 */
export function unfitText(s: string): string | null {
  if (s.includes("\0")) return "contains a NUL character";
  if (LONE_SURROGATE.test(s)) return "is not valid Unicode text";
  return null;
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false; kind: "syntax" | "depth" | "text"; message: string; field: string | null };

/**
 * JSON.parse, then one walk (iterative: depth is what it checks) refusing nesting deeper than
 * MAX_JSON_DEPTH and any string — value or key — that `unfitText` refuses, naming its field.
 */
export function parseJsonText(text: string): ParsedJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, kind: "syntax", message: "The body is not valid JSON.", field: null };
  }
  const stack: Array<[unknown, string, number]> = [[value, "", 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === "string") {
      const why = unfitText(v);
      if (why) return { ok: false, kind: "text", message: `${path || "The body"} ${why}.`, field: path || null };
    } else if (v !== null && typeof v === "object") {
      if (depth >= MAX_JSON_DEPTH) return { ok: false, kind: "depth", message: `The body nests deeper than ${MAX_JSON_DEPTH} levels.`, field: null };
      for (const [k, child] of Object.entries(v)) {
        const key = Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
        const why = unfitText(k);
        if (why) return { ok: false, kind: "text", message: `A field name ${why}.`, field: null };
        stack.push([child, key, depth + 1]);
      }
    }
  }
  return { ok: true, value };
}

export async function readBodyText(req: Request, maxBytes = MAX_JSON_BYTES): Promise<string> {
  return (await readBodyBytes(req, maxBytes)).toString("utf8");
}

/** The body text of each JSON answer made by `jsonResponse`, for the lean front to write as it is. */
const bodyTexts = new WeakMap<Response, string>();

/**
 * `Response.json`, for every machine-API answer: the same Response for Next and for tests, and the
 * lean front (server/front.ts) writes its body text straight to the socket instead of reading it
 * back through the Response's web stream (`bodyTextOf`).
 */
export function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const text = JSON.stringify(body);
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  const res = new Response(text, { status: init.status, statusText: init.statusText, headers });
  bodyTexts.set(res, text);
  return res;
}

/** The body of a `jsonResponse` answer (undefined for any other Response). */
export function bodyTextOf(res: Response): string | undefined {
  return bodyTexts.get(res);
}

/**
 * Every adapter's shape: a web `Request` and the path's parameters in, a `Response` out. The
 * parameters come as a promise because that is how Next passes them to route handlers; the lean
 * front passes a resolved one.
 */
export type RouteContext<P> = { params: Promise<P> };
export type RouteHandler<P = Record<string, string>> = (req: Request, ctx: RouteContext<P>) => Promise<Response>;
