/**
 * The logger removes secrets by path whatever a caller passes it; the metrics registry counts what
 * the domain reports and renders `tokendesk_*` names; new configuration parses or fails with a sentence.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@/lib/config/env";
import { createLogger } from "@/lib/log";
import { countAuditEvent, counted, metrics, scrapeMetrics } from "@/lib/metrics";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "td-config-"));

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "debug", destination }) };
}

describe("logger", () => {
  it("writes JSON with level, time and instance, and redacts secrets by path", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        headers: { authorization: "Bearer eyJsecret", "x-vital-api-key": "sk_us_secret", cookie: "c=secret", accept: "*/*" },
        body: { refresh_token: "rt_secret", password: "hunter2-secret", email: "ada@example.com" },
        token: "sit_secret",
      },
      "hello",
    );
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: "info", msg: "hello", headers: { accept: "*/*" }, body: { email: "ada@example.com" } });
    expect(typeof line.instance).toBe("string");
    expect(lines[0]).not.toMatch(/secret|hunter2/);
  });

  it("logs errors with their stack", () => {
    const { lines, logger } = capture();
    logger.error({ err: new Error("boom") }, "failed");
    const line = JSON.parse(lines[0]!);
    expect(line.err.message).toBe("boom");
    expect(line.err.stack).toMatch(/observability\.test\.ts/);
  });
});

describe("metrics", () => {
  it("counts audit events and the domain counters they stand for", async () => {
    countAuditEvent({ action: "sign_in_token.issued", outcome: "success", environment: "sandbox", actorType: "staff", reason: null });
    countAuditEvent({ action: "migration.rejected", outcome: "denied", environment: "sandbox", actorType: "api_key", reason: "user_mismatch" });
    const issued = await metrics().signInTokensIssued.get();
    expect(issued.values.find((v) => v.labels.environment === "sandbox" && v.labels.issuer === "staff")?.value).toBeGreaterThanOrEqual(1);
    const { body, contentType } = await scrapeMetrics();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toMatch(/^tokendesk_migrations_total\{outcome="rejected",reason="user_mismatch"\} \d+$/m);
    expect(body).toMatch(/^tokendesk_process_cpu_seconds_total /m);
    for (const name of body.match(/^[a-z_]+(?=[{ ])/gm) ?? []) expect(name).toMatch(/^tokendesk_/);
  });

  it("counts outcomes of wrapped operations by error code", async () => {
    const ok = counted("refreshes", async (n: number) => n * 2);
    const bad = counted("refreshes", async () => {
      throw Object.assign(new Error("no"), { error: "invalid_grant" });
    });
    const value = async (outcome: string) => (await metrics().refreshes.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    const [s0, f0] = [await value("success"), await value("invalid_grant")];
    expect(await ok(2)).toBe(4);
    await expect(bad()).rejects.toThrow("no");
    expect([await value("success"), await value("invalid_grant")]).toEqual([s0 + 1, f0 + 1]);
  });
});

describe("the Grafana dashboard", () => {
  it("only charts metrics the registry has", async () => {
    const dashboard = fs.readFileSync(path.join(import.meta.dirname, "..", "..", "deploy", "grafana", "tokendesk.json"), "utf8");
    const used = new Set((dashboard.match(/tokendesk_[a-z0-9_]+/g) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, "")));
    const { body } = await scrapeMetrics();
    const known = new Set(body.match(/^# TYPE (tokendesk_[a-z0-9_]+)/gm)?.map((l) => l.slice("# TYPE ".length)));
    expect(used.size).toBeGreaterThan(15);
    for (const name of used) expect(known, name).toContain(name);
  });
});

describe("operability configuration", () => {
  it("parses pool size, regions, log level, metrics and audit retention", () => {
    const cfg = parseConfig({
      TOKENDESK_DATA_DIR: tmp(),
      DATABASE_POOL_MAX: "25",
      API_KEY_CACHE_MS: "0",
      TOKENDESK_REGIONS: "us, EU,ap",
      LOG_LEVEL: "DEBUG",
      METRICS_TOKEN: "0123456789abcdef",
      METRICS_PORT: "9464",
      AUDIT_RETENTION_DAYS: "400",
      AUDIT_ARCHIVE_DIR: "/var/lib/tokendesk/audit",
    });
    expect(cfg).toMatchObject({
      poolMax: 25,
      apiKeyCacheMs: 0,
      regions: ["us", "eu", "ap"],
      logLevel: "debug",
      metrics: { token: "0123456789abcdef", port: 9464 },
      auditRetention: { days: 400, archiveDir: "/var/lib/tokendesk/audit" },
    });
    expect(parseConfig({ TOKENDESK_DATA_DIR: tmp() })).toMatchObject({ poolMax: 10, regions: ["us", "eu"], logLevel: "info", auditRetention: null });
  });

  it.each([
    [{ DATABASE_POOL_MAX: "0" }, /^DATABASE_POOL_MAX /],
    [{ API_KEY_CACHE_MS: "5s" }, /^API_KEY_CACHE_MS /],
    [{ API_KEY_CACHE_MS: "600000" }, /^API_KEY_CACHE_MS /],
    [{ TOKENDESK_REGIONS: "us,e-u" }, /^TOKENDESK_REGIONS /],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL /],
    [{ METRICS_TOKEN: "short" }, /^METRICS_TOKEN /],
    [{ METRICS_PORT: "0" }, /^METRICS_PORT /],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, /^OTEL_EXPORTER_OTLP_ENDPOINT /],
    [{ AUDIT_RETENTION_DAYS: "30" }, /^AUDIT_RETENTION_DAYS and AUDIT_ARCHIVE_DIR go together/],
  ])("refuses %o with one sentence naming the variable", (env, message) => {
    expect(() => parseConfig({ TOKENDESK_DATA_DIR: tmp(), ...env })).toThrowError(ConfigError);
    expect(() => parseConfig({ TOKENDESK_DATA_DIR: tmp(), ...env })).toThrowError(message);
  });
});
