/**
 * The front of every tokendesk process (started by server.ts): a plain Node HTTP server that
 * refuses what no route should ever see (server/limits.ts), serves the machine API itself through
 * Hono — the adapters of server/routes, web Request in and Response out — and hands every other
 * path (the console, the public pages, next-auth, the console's JSON) to Next's request handler.
 *
 * Why: Next's per-request machinery costs ~1 ms of CPU even for an empty route handler, which is
 * most of what a token operation costs; the machine API does not need a page framework.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { getRequestListener, type Http2Bindings, type HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type Context, Hono } from "hono";
import { config } from "@/lib/config/env";
import { type ErrorCode, statusOf } from "@/lib/errors";
import { bodyTextOf, PEER_ADDRESS_HEADER } from "./http";
import { bodyLimitOf, hasBody, MAX_HEADER_BYTES, type Refusal, refusalOf } from "./limits";
import { jsonError } from "./machine-api";
import { serveMetrics } from "./metrics-endpoint";
import { oauthJson } from "./oauth";
import { nextRouteOf, noteRoute, observeRequest } from "./observe";
import { REQUEST_PATH_HEADER } from "./return-to";
import { type Family, MACHINE_PREFIXES, MACHINE_ROUTES, type MachineRoute, machineFamilyOf } from "./routes";
import { securityHeaders } from "./security-headers";
import { envelopeError } from "./telematics";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface FrontOptions {
  /** Next's request handler, for every path the machine API does not own. */
  next: NodeHandler;
  /** false: every path goes to Next (the benchmark's "old route" baseline). */
  machineApi?: boolean;
  /** `npm run dev`: the page policy allows Next's dev runtime (server/security-headers.ts). */
  dev?: boolean;
}

/** Which request field a front refusal is about, for the telematics envelope's Key. */
const TELEMATICS_KEY: Record<string, string> = {
  payload_too_large: "body",
  length_required: "body",
  header_too_large: "User-Agent",
  method_not_allowed: "method",
  not_found: "path",
  bad_request: "path",
};

/**
 * A refusal of the front's in the shape of the path's family: the JSON API's error, RFC 6749's
 * `invalid_request` (the RFC has no codes for transport refusals) or the telematics envelope.
 */
export function familyError(family: Family, code: ErrorCode, message: string, headers: Record<string, string> = {}): Response {
  const status = statusOf(code);
  if (family === "oauth") return oauthJson({ error: "invalid_request", error_description: message }, status, headers);
  if (family === "telematics") return envelopeError(status, TELEMATICS_KEY[code] ?? "request", message, headers);
  return jsonError(code, message, {}, { "Cache-Control": "no-store", ...headers });
}

function paramsOf(c: Context): Promise<Record<string, string>> {
  return Promise.resolve(c.req.param() as Record<string, string>);
}

/** The machine API as a Hono app: each route, then a 405 (with Allow) for its path, then the family's 404. */
export function machineApp(routes: readonly MachineRoute[] = MACHINE_ROUTES): Hono {
  const app = new Hono();
  for (const route of routes) {
    app.on(route.method, route.path, (c) => {
      noteRoute(route.path);
      return route.handler(c.req.raw, { params: paramsOf(c) });
    });
  }
  const methodsByPath = new Map<string, { family: Family; methods: string[] }>();
  for (const r of routes) {
    const entry = methodsByPath.get(r.path) ?? { family: r.family, methods: [] };
    entry.methods.push(r.method);
    methodsByPath.set(r.path, entry);
  }
  for (const [path, { family, methods }] of methodsByPath) {
    const allow = methods.join(", ");
    app.all(path, (c) => {
      noteRoute(path);
      return familyError(family, "method_not_allowed", `Use ${allow} for ${c.req.path}.`, { Allow: allow });
    });
  }
  for (const { prefix, family } of MACHINE_PREFIXES) {
    const pattern = prefix.endsWith("/") ? `${prefix}*` : prefix;
    app.all(pattern, (c) => {
      noteRoute(`${pattern} (unmatched)`);
      return familyError(family, "not_found", `There is no ${c.req.method} ${c.req.path} in this API.`);
    });
  }
  return app;
}

/** How long a refused connection stays open after its answer, at most (the staged close below). */
export const LINGER_MS = 2_000;
/**
 * How much of a refused body the front reads and drops after its answer, at most: 1 MiB, or the
 * path's own body limit where that is larger (an IDV upload refused for its token is read to its end,
 * so the phone reads the 401 rather than a reset).
 */
export const LINGER_BYTES = 1024 * 1024;

function lingerBytesOf(req: IncomingMessage): number {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const pathname = q === -1 ? url : url.slice(0, q);
  return Math.max(LINGER_BYTES, bodyLimitOf(pathname, machineFamilyOf(pathname)));
}

/**
 * Closes a refused connection in stages (RFC 9112 §9.6), for a request whose body was not all read:
 * the answer, then our half-close, then we read and drop what the client still sends until it
 * closes its side — but at most lingerBytesOf(req), after which we stop reading (the client's writes back
 * up in its own buffers; it has its answer by then), and the socket is destroyed LINGER_MS after the
 * answer at the latest. Closing at once with the body unread makes the kernel answer with a reset,
 * which can destroy the refusal before the client reads it: an uploading client then sees
 * "connection reset" (or a broken pipe) instead of its 413. Draining without a bound made every
 * refused upload cost the server all that the client could push in LINGER_MS — for each of the
 * soak's 50 MB uploads, the ~4 MB an uploader has in flight on loopback — and let the uploader
 * start the next one at once.
 *
 * Called before the answer: the body is read through the request's own 'data' events (Node's server
 * would otherwise dump an unread request, dropping its body where nothing can count it). Node's
 * server ends a `Connection: close` exchange with `socket.destroySoon()`, which this replaces for
 * that socket.
 */
function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket as Socket & { _paused?: boolean };
  let left = lingerBytesOf(req);
  // Whatever read the body before (the machine app's stream) is gone: what still comes is dropped.
  req.removeAllListeners("data");
  req.on("data", (chunk: Buffer) => {
    left -= chunk.length;
    if (left > 0 || socket._paused) return;
    // Enough: stop reading. `_paused` keeps Node's server from resuming the socket for the request.
    socket._paused = true;
    req.pause();
    socket.pause();
  });
  req.resume();
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once("end", () => this.destroy());
    this.once("close", () => clearTimeout(timer));
  };
}

function writeRefusal(req: IncomingMessage, res: ServerResponse, refusal: Refusal, family: Family | null): void {
  res.setHeader("Connection", "close");
  if (hasBody(req)) lingerOnClose(req);
  if (family === null) {
    res.writeHead(statusOf(refusal.code), { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
    res.end(`${refusal.message}\n`);
    return;
  }
  const answer = familyError(family, refusal.code, refusal.message);
  res.writeHead(answer.status, Object.fromEntries(answer.headers));
  // A family's error is a jsonResponse: its text is at hand, without reading the web body back.
  const text = bodyTextOf(answer);
  if (text !== undefined) res.end(text);
  else void answer.text().then((body) => res.end(body));
}

/**
 * The machine app as a Node listener. Answers made by `jsonResponse` (every JSON answer of the
 * machine API) are written from their body text; reading a web Response's body back through its
 * stream, as the adapter does for any other Response, costs more than the rest of a simple request.
 */
function machineListener(app: Hono) {
  return getRequestListener(
    async (req: Request, env: HttpBindings | Http2Bindings) => {
      const res = await app.fetch(req, env);
      const text = bodyTextOf(res);
      if (text === undefined || req.method === "HEAD") return res;
      const headers: Record<string, string> = {};
      for (const [name, value] of res.headers) headers[name] = value;
      headers["content-length"] = String(Buffer.byteLength(text));
      const out = env.outgoing as ServerResponse; // the front is an HTTP/1.1 server
      const incoming = env.incoming as IncomingMessage;
      // Answered before the body was all read (a streamed cap's 413, a refused caller): close in
      // stages, dropping the rest, rather than reading an unbounded body to keep the connection.
      if (!incoming.complete && hasBody(incoming)) {
        headers.connection = "close";
        lingerOnClose(incoming);
      }
      out.writeHead(res.status, headers);
      out.end(text);
      return RESPONSE_ALREADY_SENT;
    },
    { overrideGlobalObjects: false },
  );
}

/**
 * Names the socket's peer for the adapters (server/http.ts, PEER_ADDRESS_HEADER). A value the client
 * sent under that name is removed first — from the parsed headers and from the raw list, which some
 * readers (a materialised web Headers) use instead.
 */
function notePeerAddress(req: IncomingMessage): void {
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i]!.toLowerCase() === PEER_ADDRESS_HEADER) raw.splice(i, 2);
  const peer = req.socket.remoteAddress;
  if (peer) {
    req.headers[PEER_ADDRESS_HEADER] = peer;
    raw.push(PEER_ADDRESS_HEADER, peer);
  } else {
    delete req.headers[PEER_ADDRESS_HEADER];
  }
}

export function createFront(opts: FrontOptions): http.Server {
  const serveMachine = machineListener(machineApp());
  const machineApi = opts.machineApi !== false;
  const headerOptions = { publicUrl: config().publicUrl, dev: opts.dev };
  return http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const pathname = q === -1 ? url : url.slice(0, q);
    const family = machineApi ? machineFamilyOf(pathname) : null;
    // Every answer, refusals included, carries the security headers; Next's pages get the nonce.
    const page = family === null && machineFamilyOf(pathname) === null && pathname !== "/metrics";
    const security = securityHeaders(pathname, page, headerOptions);
    for (const [name, value] of Object.entries(security.headers)) res.setHeader(name, value);
    const refusal = refusalOf(req, pathname, family);
    // Every answer, refusals included, carries a request id and gets one access line (observe.ts).
    if (refusal) return observeRequest(req, res, "(refused)", () => writeRefusal(req, res, refusal, family));
    notePeerAddress(req);
    if (pathname === "/metrics") return observeRequest(req, res, "/metrics", () => void serveMetrics(req, res));
    if (family) return observeRequest(req, res, "(machine)", () => void serveMachine(req, res));
    // Next takes the nonce for its scripts from the request's policy (getScriptNonceFromHeader).
    if (security.nonce) req.headers["content-security-policy"] = security.headers["Content-Security-Policy"];
    else delete req.headers["content-security-policy"];
    // A page learns its own path and query from this header (never the client's): requireStaffPage
    // names it in /login?callbackUrl= so a link survives sign-in (server/return-to.ts).
    if (page) req.headers[REQUEST_PATH_HEADER] = url;
    else delete req.headers[REQUEST_PATH_HEADER];
    return observeRequest(req, res, nextRouteOf(pathname), () => void opts.next(req, res));
  });
}
