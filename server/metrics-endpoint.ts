/**
 * `GET /metrics` (Prometheus text): on the main port only with `Authorization: Bearer $METRICS_TOKEN`
 * (404 when no token is configured, so it is never open by accident), and on `METRICS_PORT`, when
 * set, without a token — that port belongs on the internal network, not the load balancer.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { config } from "@/lib/config/env";
import { log } from "@/lib/log";
import { scrapeMetrics } from "@/lib/metrics";

const digest = (s: string) => createHash("sha256").update(s).digest();

function tokenMatches(header: string | undefined, token: string): boolean {
  const presented = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

async function writeMetrics(res: ServerResponse): Promise<void> {
  const { contentType, body } = await scrapeMetrics();
  res.writeHead(200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  res.end(body);
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...headers });
  res.end(`${message}\n`);
}

/** `/metrics` on the main port. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const token = config().metrics.token;
  if (!token) return refuse(res, 404, "Not found.");
  if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, "Use GET.", { Allow: "GET, HEAD" });
  if (!tokenMatches(req.headers.authorization, token)) {
    return refuse(res, 401, "Send Authorization: Bearer <METRICS_TOKEN>.", { "WWW-Authenticate": 'Bearer realm="metrics"' });
  }
  await writeMetrics(res);
}

/** The separate metrics listener of METRICS_PORT, or null when it is not configured. */
export function startMetricsServer(host: string): http.Server | null {
  const port = config().metrics.port;
  if (!port) return null;
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname !== "/metrics") return refuse(res, 404, "Only /metrics is served on this port.");
    writeMetrics(res).catch((err) => {
      log().error({ err }, "metrics scrape failed");
      refuse(res, 500, "The scrape failed.");
    });
  });
  server.listen(port, host);
  return server;
}
