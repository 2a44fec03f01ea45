/**
 * OpenTelemetry tracing of the production server (server/tracing.ts): a server of its own, on the
 * suite's database, with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a tiny OTLP/HTTP receiver in this
 * file. A mint + exchange + bearer call (the exchange with a W3C traceparent), then SIGTERM: the
 * spans queued in the batch (its delay is set far beyond the test) must arrive with the graceful
 * stop, as OTLP JSON, one SERVER span per request named by route pattern with its status, the
 * exchange's in the caller's trace — and not one secret of the flow anywhere in what was exported.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { TEST_SECRET } from "../../vitest.config";
import { mintKey, openTestDb, SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE, uniq } from "../helpers/machine-api";
import { type RunningServer, startServer } from "../helpers/server";

interface Received {
  path: string;
  contentType: string | undefined;
  body: string;
}

let h: DatabaseHandle;
let receiver: http.Server;
const received: Received[] = [];
let server: RunningServer | null = null;
let logFile: string;

beforeAll(async () => {
  h = await openTestDb();
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let raw = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
      received.push({ path: req.url ?? "", contentType: req.headers["content-type"], body: raw.toString("utf8") });
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "td-tracing-")), "server.log");
  server = await startServer(
    {
      DATABASE_URL: inject("databaseUrl"),
      TOKENDESK_SECRET: TEST_SECRET,
      TOKENDESK_INSTANCE: "tracing-test",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
      // Nothing is exported on a timer during the test: what arrives was flushed by the graceful stop.
      OTEL_BSP_SCHEDULE_DELAY: "600000",
      LOG_LEVEL: "info",
    },
    { logFile },
  );
});
afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => receiver.close(resolve));
  await h.close();
});

type OtlpValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean };
type OtlpAttribute = { key: string; value: OtlpValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  status?: { code?: number };
}

function attrs(list: OtlpAttribute[] | undefined): Record<string, string | number | boolean | undefined> {
  return Object.fromEntries(
    (list ?? []).map((a) => [a.key, a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : a.value.boolValue)]),
  );
}

async function request(method: string, urlPath: string, opts: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(`${server!.url}${urlPath}`, { method, headers: opts.headers, body: opts.body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.startsWith("{") ? JSON.parse(text) : text };
}

describe("OpenTelemetry tracing", () => {
  it("exports one span per request over OTLP/HTTP JSON, continues traceparent, flushes on SIGTERM, and exports no secret", async () => {
    const secrets: string[] = [TEST_SECRET];
    const { key } = await mintKey(h);
    secrets.push(key);
    const json = (body: unknown) => ({ headers: { "X-Vital-API-Key": key, "Content-Type": "application/json" }, body: JSON.stringify(body) });

    const user = await request("POST", "/v2/user", json({ client_user_id: uniq("trace") }));
    expect(user.status).toBe(200);
    const issued = await request("POST", `/v2/user/${user.body.user_id}/sign_in_token`, json({}));
    expect(issued.status).toBe(200);
    const signInToken: string = issued.body.sign_in_token;
    secrets.push(signInToken);

    const callerTrace = "0af7651916cd43dd8448eb211c80319c";
    const callerSpan = "b7ad6b7169203331";
    const exchanged = await request("POST", "/oauth/token", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", traceparent: `00-${callerTrace}-${callerSpan}-01` },
      body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: signInToken, subject_token_type: SIGN_IN_TOKEN_TYPE }).toString(),
    });
    expect(exchanged.status).toBe(200);
    secrets.push(exchanged.body.access_token, exchanged.body.refresh_token);

    const me = await request("GET", `/v2/user/${user.body.user_id}`, { headers: { Authorization: `Bearer ${exchanged.body.access_token}` } });
    expect(me.status).toBe(200);
    // Secrets in a raw path and query: only the patterns may reach the collector.
    const pathSecret = await request("GET", `/h/${signInToken}?authorization=${exchanged.body.access_token}&key=${key}`);
    expect(pathSecret.status).toBeLessThan(500);

    expect(received).toHaveLength(0); // the batch waits (OTEL_BSP_SCHEDULE_DELAY)…
    const log = fs.readFileSync(logFile, "utf8");
    await server!.stop(); // …until the graceful stop flushes it
    server = null;
    expect(received.length).toBeGreaterThan(0);

    for (const r of received) {
      expect(r.path).toBe("/v1/traces");
      expect(r.contentType).toMatch(/^application\/json/);
    }
    const payloads = received.map(
      (r) => JSON.parse(r.body) as { resourceSpans: Array<{ resource: { attributes: OtlpAttribute[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }> },
    );
    const resources = payloads.flatMap((p) => p.resourceSpans.map((rs) => attrs(rs.resource.attributes)));
    for (const resource of resources) expect(resource).toMatchObject({ "service.name": "tokendesk", "service.instance.id": "tracing-test" });
    const spans = payloads.flatMap((p) => p.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));

    const byRoute = (name: string) => spans.filter((s) => s.name === name);
    const exchange = byRoute("POST /oauth/token");
    expect(exchange).toHaveLength(1);
    expect(exchange[0]!.kind).toBe(2); // SPAN_KIND_SERVER
    expect(exchange[0]!.traceId).toBe(callerTrace);
    expect(exchange[0]!.parentSpanId).toBe(callerSpan);
    expect(attrs(exchange[0]!.attributes)).toEqual({
      "http.request.method": "POST",
      "http.route": "/oauth/token",
      "http.response.status_code": 200,
      "tokendesk.request_id": exchanged.headers.get("x-request-id"),
    });
    const bearer = byRoute("GET /v2/user/:user_id");
    expect(bearer).toHaveLength(1);
    expect(attrs(bearer[0]!.attributes)).toMatchObject({
      "http.route": "/v2/user/:user_id",
      "http.response.status_code": 200,
      "tokendesk.request_id": me.headers.get("x-request-id"),
    });
    expect(bearer[0]!.traceId).not.toBe(callerTrace); // no traceparent: a trace of its own
    expect(byRoute("POST /v2/user/:user_id/sign_in_token")).toHaveLength(1);
    const page = spans.find((s) => attrs(s.attributes)["tokendesk.request_id"] === pathSecret.headers.get("x-request-id"));
    expect(page?.name).toMatch(/^GET \/h\//);

    // The access line names the trace it belongs to.
    const lines = log
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.type === "access" && l.requestId === exchanged.headers.get("x-request-id"))).toMatchObject({
      route: "/oauth/token",
      traceId: callerTrace,
      spanId: exchange[0]!.spanId,
    });

    // Not one secret of the flow anywhere in what was exported.
    const everything = received.map((r) => r.body).join("\n");
    expect(secrets.every((s) => typeof s === "string" && s.length >= 16)).toBe(true);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
