/**
 * What request tracing costs the front's observeRequest (server/observe.ts), in-process, without
 * HTTP: tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT: one `undefined` check), tracing on (a span per
 * request into a batch whose exporter drops everything), and optionally another checkout's
 * observe.ts (`--baseline <file>`, e.g. main's, copied inside this checkout so `@/` resolves).
 * Rounds alternate between the variants; the figure is the median of the rounds' CPU µs per request.
 *
 *   npx tsx scripts/bench/observe-overhead.ts [--rounds 15] [--requests 20000] [--baseline server/.observe-main.ts]
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { Writable } from "node:stream";
import type { ExportResult } from "@opentelemetry/core";
import { createLogger, setLogger } from "@/lib/log";
import * as observe from "@/server/observe";
import { startTracing } from "@/server/tracing";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const rounds = Number(arg("--rounds", "15"));
const requests = Number(arg("--requests", "20000"));
const baselineFile = arg("--baseline", "");

process.env.TOKENDESK_SECRET ??= "bench-secret-bench-secret-bench-secret-0123456789";
// The access line is formatted as in production, then dropped.
setLogger(createLogger({ level: "info", destination: new Writable({ write: (_c, _e, done) => done() }) }));

class FakeResponse extends EventEmitter {
  headersSent = true;
  statusCode = 200;
  setHeader() {
    return this;
  }
}

type Observe = typeof observe.observeRequest;

/** CPU µs per request (process.cpuUsage: time other processes take on a busy machine is not counted). */
function run(observeRequest: Observe): number {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const req = { method: "POST", url: "/oauth/token", headers: { "content-type": "application/x-www-form-urlencoded" } } as unknown as IncomingMessage;
    const res = new FakeResponse();
    observeRequest(req, res as unknown as ServerResponse, "/oauth/token", () => {});
    res.emit("finish");
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / requests;
}

const tracer = startTracing({
  endpoint: "http://127.0.0.1:1",
  exporter: { export: (_spans, done: (r: ExportResult) => void) => done({ code: 0 }), shutdown: async () => {} },
});
const variants: Array<{ name: string; fn: Observe; tracer: typeof tracer | null }> = [
  { name: "tracing off", fn: observe.observeRequest, tracer: null },
  { name: "tracing on", fn: observe.observeRequest, tracer },
];
if (baselineFile) {
  const baseline = (await import(path.resolve(baselineFile))) as typeof observe;
  variants.unshift({ name: `baseline (${baselineFile})`, fn: baseline.observeRequest, tracer: null });
}

const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (const v of variants) {
  observe.setRequestTracer(v.tracer);
  run(v.fn); // warm up
}
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    observe.setRequestTracer(v.tracer);
    times.get(v.name)!.push(run(v.fn));
  }
}
observe.setRequestTracer(null);
await tracer.shutdown();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const v of variants) {
  const xs = times.get(v.name)!;
  console.log(
    `${v.name.padEnd(40)} median ${median(xs).toFixed(2)} CPU µs/request  (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}, ${rounds} rounds of ${requests})`,
  );
}
