/**
 * Request spans (server/tracing.ts through the front's observeRequest), exported to memory: one
 * SERVER span per request named by the route pattern, only the attributes we chose (never the raw
 * URL, query or headers), the caller's trace continued from `traceparent`, the trace id on the
 * access line; and nothing at all when no tracer is set.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger, instanceName, setLogger } from "@/lib/log";
import { noteRoute, observeRequest, setRequestTracer } from "@/server/observe";
import { startTracing, tracesUrl } from "@/server/tracing";

const exporter = new InMemorySpanExporter();
const lines: string[] = [];
let server: http.Server;
let base: string;
let tracer: ReturnType<typeof startTracing>;

beforeAll(async () => {
  setLogger(
    createLogger({
      level: "info",
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    }),
  );
  tracer = startTracing({ endpoint: "http://127.0.0.1:1", exporter });
  // A front in miniature: the pattern is known up front for /h/…, named while serving for /v2/…
  server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith("/h/")) {
      return observeRequest(req, res, "/h/[code]", () => {
        res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
      });
    }
    return observeRequest(req, res, "(machine)", () => {
      noteRoute("/v2/user/:user_id");
      res.writeHead(path.endsWith("/boom") ? 503 : 404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  setRequestTracer(null);
  await tracer.shutdown();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  exporter.reset();
  lines.length = 0;
});

const SECRET_CODE = "sit_pathsecret0123456789";
const SECRET_QUERY = "et_querysecret0123456789";
const SECRET_HEADER = "sk_us_headersecret0123456789";

describe("request spans", () => {
  it("one SERVER span per request with only our attributes, continuing the caller's trace", async () => {
    setRequestTracer(tracer);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentSpanId = "00f067aa0ba902b7";
    const res = await fetch(`${base}/h/${SECRET_CODE}?authorization=${SECRET_QUERY}`, {
      headers: { traceparent: `00-${traceId}-${parentSpanId}-01`, "X-Vital-API-Key": SECRET_HEADER, Authorization: `Bearer ${SECRET_HEADER}` },
    });
    expect(res.status).toBe(200);
    await expect.poll(() => exporter.getFinishedSpans().length).toBe(1); // the span ends on the server's "finish"
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe("GET /h/[code]");
    expect(span.kind).toBe(1); // SpanKind.SERVER
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe(parentSpanId);
    expect(span.attributes).toEqual({
      "http.request.method": "GET",
      "http.route": "/h/[code]",
      "http.response.status_code": 200,
      "tokendesk.request_id": res.headers.get("x-request-id"),
    });
    expect(span.resource.attributes).toMatchObject({ "service.name": "tokendesk", "service.instance.id": instanceName() });
    const everything = JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, resource: span.resource.attributes });
    for (const secret of [SECRET_CODE, SECRET_QUERY, SECRET_HEADER]) expect(everything).not.toContain(secret);
    // The access line names the trace.
    const access = lines.map((l) => JSON.parse(l)).find((l) => l.type === "access");
    expect(access).toMatchObject({ route: "/h/[code]", status: 200, traceId, spanId: span.spanContext().spanId });
  });

  it("names the route found while serving, starts a new trace without traceparent, marks 5xx as errors", async () => {
    setRequestTracer(tracer);
    expect((await fetch(`${base}/v2/user/u-${SECRET_CODE}`)).status).toBe(404);
    expect((await fetch(`${base}/v2/user/boom`, { headers: { traceparent: "not-a-traceparent" } })).status).toBe(503);
    await expect.poll(() => exporter.getFinishedSpans().length).toBe(2);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(["GET /v2/user/:user_id", "GET /v2/user/:user_id"]);
    expect(spans[0]!.attributes["http.route"]).toBe("/v2/user/:user_id");
    expect(spans[0]!.parentSpanContext).toBeUndefined();
    expect(spans[0]!.status.code).toBe(0); // a 4xx is the client's error, not the server span's
    expect(spans[1]!.attributes["http.response.status_code"]).toBe(503);
    expect(spans[1]!.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(spans[1]!.parentSpanContext).toBeUndefined(); // a malformed traceparent is ignored
    expect(spans[0]!.spanContext().traceId).not.toBe(spans[1]!.spanContext().traceId);
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(SECRET_CODE);
  });

  it("makes no span and adds nothing to the access line when tracing is off", async () => {
    setRequestTracer(null);
    expect((await fetch(`${base}/h/${SECRET_CODE}`)).status).toBe(200);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    const access = lines.map((l) => JSON.parse(l)).find((l) => l.type === "access");
    expect(access).toMatchObject({ route: "/h/[code]", status: 200 });
    expect(access).not.toHaveProperty("traceId");
  });

  it("sends to <endpoint>/v1/traces", () => {
    expect(tracesUrl("http://collector:4318")).toBe("http://collector:4318/v1/traces");
    expect(tracesUrl("https://otel.example.com/otlp/")).toBe("https://otel.example.com/otlp/v1/traces");
  });
});
