/**
 * The tokendesk process: `npm start`, `npm run dev` and the container all run this file (through
 * tsx, as the CLI does). It opens and migrates the database and starts the background jobs
 * (lib/bootstrap.ts), prepares Next for the console and public pages, and listens with the lean
 * front of server/front.ts, which serves the machine API itself.
 *
 * Environment: PORT (3000), HOST (0.0.0.0), NODE_ENV (production unless `npm run dev`), and
 * TOKENDESK_FRONT=next to hand every path to Next (the benchmark's baseline for the old routes);
 * TOKENDESK_CPU_PROFILE_DIR for CPU profiles taken on SIGUSR2 (server/profiler.ts, the benchmark's --profile);
 * OTEL_EXPORTER_OTLP_ENDPOINT turns request tracing on (server/tracing.ts, imported only then).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { startServer } from "@/lib/bootstrap";
import { config } from "@/lib/config/env";
import { createFront } from "@/server/front";
import { startMetricsServer } from "@/server/metrics-endpoint";
import { setRequestTracer } from "@/server/observe";

const root = path.dirname(fileURLToPath(import.meta.url));
const dev = process.env.NODE_ENV !== "production";
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "0.0.0.0";

if (process.env.TOKENDESK_CPU_PROFILE_DIR) await (await import("@/server/profiler")).enableSignalProfiler(process.env.TOKENDESK_CPU_PROFILE_DIR);
await startServer();
const otlpEndpoint = config().otlpEndpoint;
const tracing = otlpEndpoint ? (await import("@/server/tracing")).startTracing({ endpoint: otlpEndpoint }) : null;
setRequestTracer(tracing);
const app = next({ dev, dir: root, hostname: host === "0.0.0.0" ? "localhost" : host, port });
await app.prepare();
const handle = app.getRequestHandler();
const server = createFront({ next: (req, res) => handle(req, res), machineApi: process.env.TOKENDESK_FRONT !== "next", dev });
server.listen(port, host);
// METRICS_PORT: /metrics for Prometheus on its own port (no token), off the load balancer's.
const metricsServer = startMetricsServer(host);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    // Stop accepting, let in-flight requests finish, export the spans still queued, then exit (a
    // CPU profile is written on exit); a second signal, or this timer, ends the process sooner.
    server.close(() => {
      if (!tracing) return process.exit(0);
      tracing.shutdown().finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    metricsServer?.close();
    setTimeout(() => process.exit(0), 5_000).unref();
    process.once(signal, () => process.exit(0));
  });
}
