/**
 * What the front knows about each request while it runs, and what it writes when it ends: one
 * access line (pino) and the request metrics, with the route *pattern* (`/v2/user/:user_id`,
 * `/users/[id]`) — never the raw URL, whose path or query may carry a token (`/h/<code>`,
 * `/mobile?authorization=et_…`).
 *
 * The request's context lives in an AsyncLocalStorage kept on globalThis: the front and Next's
 * server bundle each load their own copy of server/ and lib/, and an adapter running inside Next
 * must find the store the front opened. Adapters name the authenticated actor with `noteActor`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { config } from "@/lib/config/env";
import type { Actor } from "@/lib/context";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";

export interface RequestContext {
  requestId: string;
  route: string;
  actor: { type: string; id: string | null } | null;
}

/** One request's trace span (server/tracing.ts), as the front sees it: no OpenTelemetry type here. */
export interface RequestSpan {
  traceId: string;
  spanId: string;
  /** Ends the span with the final route pattern and the status sent (null: the client left first). */
  end(route: string, status: number | null): void;
}

/** Makes request spans; present only when OTEL_EXPORTER_OTLP_ENDPOINT is set (server.ts). */
export interface RequestTracer {
  start(req: IncomingMessage, route: string, requestId: string): RequestSpan;
  /** Exports what is queued and stops. */
  shutdown(): Promise<void>;
}

const g = globalThis as unknown as { __tokendeskRequests?: AsyncLocalStorage<RequestContext>; __tokendeskTracer?: RequestTracer | null };
g.__tokendeskRequests ??= new AsyncLocalStorage<RequestContext>();
const store = g.__tokendeskRequests;

/** Turns request spans on (a tracer) or off (null). */
export function setRequestTracer(tracer: RequestTracer | null): void {
  g.__tokendeskTracer = tracer;
}

/** The running request's context, or undefined outside a request (CLI, background jobs). */
export function currentRequest(): RequestContext | undefined {
  return store.getStore();
}

/** Names who the request acts as, for the access line (type and id only: never a credential). */
export function noteActor(actor: Pick<Actor, "type" | "id">): void {
  const ctx = store.getStore();
  if (ctx) ctx.actor = { type: actor.type, id: actor.id };
}

export function noteRoute(route: string): void {
  const ctx = store.getStore();
  if (ctx) ctx.route = route;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The request id: the one a trusted proxy set (TRUSTED_PROXY configured), else a new UUID. A client
 * talking to us directly could otherwise plant ids in our logs and audit trail.
 */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  if (config().trustedProxyHeader && typeof given === "string" && REQUEST_ID.test(given)) return given;
  return randomUUID();
}

interface PagePattern {
  page: string;
  regex: RegExp;
}

/** Next's own table of page and route patterns (routes-manifest.json of the build), to name Next's paths. */
function loadNextPatterns(): PagePattern[] {
  try {
    const dist = process.env.NEXT_DIST_DIR || ".next";
    const manifest = JSON.parse(fs.readFileSync(path.join(process.cwd(), dist, "routes-manifest.json"), "utf8")) as {
      staticRoutes?: Array<{ page: string; regex: string }>;
      dynamicRoutes?: Array<{ page: string; regex: string }>;
    };
    return [...(manifest.staticRoutes ?? []), ...(manifest.dynamicRoutes ?? [])].map((r) => ({ page: r.page, regex: new RegExp(r.regex) }));
  } catch {
    return []; // no production build (npm run dev): Next's paths are named by their first segment
  }
}

let nextPatterns: PagePattern[] | null = null;

/** The pattern of a path Next serves: `/users/[id]`, `/_next/static/*`, or `(next)` when unknown. */
export function nextRouteOf(pathname: string): string {
  if (pathname.startsWith("/_next/")) return `/_next/${pathname.split("/")[2] ?? ""}/*`;
  nextPatterns ??= loadNextPatterns();
  for (const p of nextPatterns) if (p.regex.test(pathname)) return p.page;
  return "(next)";
}

/**
 * Runs `serve` inside a new request context and, when the answer has been handed to the socket,
 * writes the access line and counts the request. Sets X-Request-Id on the request (so every
 * adapter and audit event sees it) and on the answer. With tracing on, the request is one SERVER
 * span and the access line carries its trace and span ids.
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse, route: string, serve: () => void): void {
  const started = process.hrtime.bigint();
  const requestId = requestIdFor(req);
  req.headers["x-request-id"] = requestId;
  res.setHeader("X-Request-Id", requestId);
  const ctx: RequestContext = { requestId, route, actor: null };
  const span = g.__tokendeskTracer?.start(req, route, requestId);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const status = res.headersSent ? res.statusCode : 499; // 499: the client left before an answer
    if (span) span.end(ctx.route, res.headersSent ? status : null);
    const labels = { method: req.method ?? "GET", route: ctx.route, status: String(status) };
    const m = metrics();
    m.httpRequests.inc(labels);
    m.httpDuration.observe({ route: labels.route, status_class: `${labels.status[0]}xx` }, seconds);
    const line: Record<string, unknown> = {
      type: "access",
      requestId,
      method: labels.method,
      route: ctx.route,
      status,
      durationMs: Math.round(seconds * 10_000) / 10,
      actorType: ctx.actor?.type ?? null,
      actorId: ctx.actor?.id ?? null,
    };
    if (span) {
      line.traceId = span.traceId;
      line.spanId = span.spanId;
    }
    log().info(line, "request");
  };
  res.once("finish", finish);
  res.once("close", finish);
  store.run(ctx, serve);
}
