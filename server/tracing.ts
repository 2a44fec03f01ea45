/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set: server.ts imports this
 * module lazily, so a process without it never loads an OpenTelemetry package and the front pays
 * one `undefined` check per request (server/observe.ts).
 *
 * One SERVER span per request, made by the front's observeRequest, named `METHOD route-pattern`
 * and carrying only the attributes chosen here: http.request.method, http.route,
 * http.response.status_code, tokendesk.request_id. Never the raw URL, its query, headers or
 * bodies: tokens travel in paths (`/h/<code>`) and queries (`?authorization=`). A W3C
 * `traceparent` (and `tracestate`) on the request continues the caller's trace.
 *
 * The provider is deliberately NOT registered as the global one: Next.js and drizzle-orm trace
 * through the global @opentelemetry/api when a provider is registered, and Next's spans record the
 * raw request target (`http.target`). Only the spans made here are exported.
 *
 * Export: OTLP/HTTP with JSON bodies (@opentelemetry/exporter-trace-otlp-http) to
 * `<endpoint>/v1/traces`, batched; OTEL_EXPORTER_OTLP_HEADERS (e.g. a collector's API key) is honoured
 * by the exporter. `shutdown()` flushes what is queued (server.ts calls it on SIGTERM).
 */
import type { IncomingMessage } from "node:http";
import { DiagLogLevel, defaultTextMapGetter, diag, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import { instanceName, log } from "@/lib/log";
import type { RequestSpan, RequestTracer } from "./observe";

export const ATTR_REQUEST_ID = "tokendesk.request_id";
/** Incubating in the semantic conventions (not exported by their stable entry point). */
const ATTR_SERVICE_INSTANCE_ID = "service.instance.id";

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** Tests: an in-memory exporter, exported span by span (no batching). */
  exporter?: SpanExporter;
}

/** `<endpoint>/v1/traces`, as the OTLP exporter specification builds it from the generic endpoint. */
export function tracesUrl(endpoint: string): string {
  return new URL("v1/traces", endpoint.endsWith("/") ? endpoint : `${endpoint}/`).toString();
}

export function startTracing(opts: TracingOptions): RequestTracer {
  // Export failures (collector down, refused) go to the log as warnings instead of vanishing.
  diag.setLogger(
    {
      error: (message) => log().warn({ component: "opentelemetry" }, message),
      warn: (message) => log().warn({ component: "opentelemetry" }, message),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const exporter = opts.exporter ?? new OTLPTraceExporter({ url: tracesUrl(opts.endpoint) });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: "tokendesk",
      [ATTR_SERVICE_INSTANCE_ID]: instanceName(),
      [ATTR_SERVICE_VERSION]: process.env.TOKENDESK_VERSION ?? "dev",
    }),
    spanProcessors: [opts.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  const tracer: Tracer = provider.getTracer("tokendesk");
  const propagator = new W3CTraceContextPropagator();
  return {
    start(req: IncomingMessage, route: string, requestId: string): RequestSpan {
      const method = req.method ?? "GET";
      // Only traceparent/tracestate are read from the headers (the propagator's own fields).
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        `${method} ${route}`,
        { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_REQUEST_ID]: requestId } },
        parent,
      );
      const { traceId, spanId } = span.spanContext();
      return {
        traceId,
        spanId,
        end(finalRoute: string, status: number | null) {
          // The route is known for sure only now (the machine API names it while routing).
          span.updateName(`${method} ${finalRoute}`);
          span.setAttribute(ATTR_HTTP_ROUTE, finalRoute);
          if (status === null) {
            span.setAttribute(ATTR_ERROR_TYPE, "client_closed");
          } else {
            span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
            if (status >= 500) {
              span.setAttribute(ATTR_ERROR_TYPE, String(status));
              span.setStatus({ code: SpanStatusCode.ERROR });
            }
          }
          span.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}
