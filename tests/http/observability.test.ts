/**
 * Logs, metrics and request ids of the running server (server.ts: the front), over HTTP on
 * PostgreSQL: a full flow — user, sign-in token, exchange, bearer call, refresh, revoke, device
 * registration/login/refresh, an IDV ephemeral token — then:
 *   - its log has one JSON access line per request with the route *pattern*, status, duration,
 *     request id and actor, and not one of the secrets the flow used;
 *   - X-Request-Id is echoed on every answer, taken from the trusted proxy when sent, and written
 *     to the audit event;
 *   - /metrics needs METRICS_TOKEN, and its counters moved with the flow.
 */
import fs from "node:fs";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { auditEvents } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createInstance } from "@/lib/devices";
import { TEST_SECRET } from "../../vitest.config";
import { baseUrl, call, createUserOver, form, issueOver, mintKey, openTestDb, SIGN_IN_TOKEN_TYPE, TOKEN_EXCHANGE, uniq } from "../helpers/machine-api";

let h: DatabaseHandle;
beforeAll(async () => {
  h = await openTestDb();
});
afterAll(async () => {
  await h.close();
});

async function scrape(token = inject("metricsToken")) {
  return fetch(`${baseUrl()}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

/** The value of one sample line of the Prometheus text (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `)) return Object.keys(labels).length ? 0 : Number(line.slice(name.length + 1));
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf("}"));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

async function device(path: string, headers: Record<string, string>, body?: unknown) {
  const res = await fetch(`${baseUrl()}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { Result: Record<string, unknown> }, requestId: res.headers.get("x-request-id") };
}

interface AccessLine {
  type: string;
  requestId: string;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  actorType: string | null;
  actorId: string | null;
  instance: string;
  level: string;
}

describe("logs, request ids and metrics of a full flow", () => {
  it("logs every request by route pattern without a secret, echoes and audits request ids, and counts the flow in /metrics", async () => {
    expect((await scrape("")).status).toBe(401);
    expect((await scrape("wrong-token-wrong-token")).status).toBe(401);
    const before = await (await scrape()).text();

    const secrets: string[] = [TEST_SECRET, inject("metricsToken")];
    const { key } = await mintKey(h);
    secrets.push(key);

    // A request id from the trusted proxy is kept, echoed and audited.
    const traced = await call("/v2/user", { key, json: { client_user_id: uniq("obs") }, headers: { "X-Request-Id": "proxy-trace-0001" } });
    expect(traced.status).toBe(200);
    expect(traced.headers.get("x-request-id")).toBe("proxy-trace-0001");
    const [created] = await h.db.select().from(auditEvents).where(eq(auditEvents.targetId, traced.body.user_id));
    expect(created).toMatchObject({ action: "user.created", requestId: "proxy-trace-0001" });

    const user = await createUserOver(key);
    const signInToken = await issueOver(key, user.user_id);
    secrets.push(signInToken);
    const exchanged = await form("/oauth/token", { grant_type: TOKEN_EXCHANGE, subject_token: signInToken, subject_token_type: SIGN_IN_TOKEN_TYPE });
    expect(exchanged.status).toBe(200);
    const generated = exchanged.headers.get("x-request-id");
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    // The exchange's redemption is audited with the id the answer carried (other files share the database).
    const redeemed = await h.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "sign_in_token.redeemed"), eq(auditEvents.requestId, generated!)));
    expect(redeemed).toHaveLength(1);
    secrets.push(exchanged.body.access_token, exchanged.body.refresh_token);

    const me = await call(`/v2/user/${user.user_id}`, { bearer: exchanged.body.access_token, headers: { "X-Request-Id": "proxy-trace-bearer" } });
    expect(me.status).toBe(200);
    const refreshed = await form("/oauth/token", { grant_type: "refresh_token", refresh_token: exchanged.body.refresh_token });
    expect(refreshed.status).toBe(200);
    secrets.push(refreshed.body.access_token, refreshed.body.refresh_token);
    expect((await form("/oauth/token", { grant_type: "refresh_token", refresh_token: "rt_not-a-real-token-at-all" })).status).toBe(400);
    expect((await form("/oauth/revoke", { token: refreshed.body.refresh_token })).status).toBe(200);

    const { instance, instanceKey } = await createInstance(h.db, systemActor("http test"), { name: uniq("fleet"), environment: "sandbox" }, NO_REQUEST);
    secrets.push(instanceKey);
    const registered = await device(
      "/v1/Registration/create",
      { InstanceId: instance.id, InstanceKey: instanceKey },
      { UserFields: { ClientId: uniq("driver") } },
    );
    expect(registered.status).toBe(200);
    const deviceToken = String(registered.body.Result.DeviceToken);
    secrets.push(deviceToken, String(registered.body.Result.RefreshToken), (registered.body.Result.AccessToken as { Token: string }).Token);
    const login = await device(
      "/v1/Auth/Login",
      { InstanceId: instance.id },
      { LoginFields: JSON.stringify({ Devicetoken: deviceToken }), Password: instanceKey },
    );
    expect(login.status).toBe(200);
    const loginJwt = (login.body.Result.AccessToken as { Token: string }).Token;
    secrets.push(loginJwt, String(login.body.Result.RefreshToken));
    const deviceRefresh = await device("/v1/Auth/RefreshToken", {}, { AccessToken: loginJwt, RefreshToken: login.body.Result.RefreshToken });
    expect(deviceRefresh.status).toBe(200);
    secrets.push(String(deviceRefresh.body.Result.RefreshToken));

    const ephemeral = await call("/api/device/ephemeral", { key, json: { ttl: 600 } });
    expect(ephemeral.status).toBe(200);
    secrets.push(ephemeral.body.authorization);
    // A console page through Next, with a token in its query: its access line names the page only.
    const mobile = await fetch(`${baseUrl()}/mobile?authorization=${encodeURIComponent(ephemeral.body.authorization)}&sessionId=x`);
    expect(mobile.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    // Metrics moved with the flow.
    const after = await (await scrape()).text();
    const moved = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved("tokendesk_token_exchanges_total", { outcome: "success" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_token_refreshes_total", { outcome: "success" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_token_refreshes_total", { outcome: "invalid_grant" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_sign_in_tokens_issued_total", { environment: "sandbox", issuer: "api_key" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_sign_in_tokens_redeemed_total", { environment: "sandbox" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_revocations_total", { kind: "sdk_session" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_device_logins_total", { outcome: "success" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_device_refreshes_total", { outcome: "success" })).toBeGreaterThanOrEqual(1);
    expect(moved("tokendesk_http_requests_total", { method: "GET", route: "/v2/user/:user_id", status: "200" })).toBeGreaterThanOrEqual(1);
    expect(sample(after, "tokendesk_db_pool_max", {})).toBeGreaterThan(0);
    expect(after).toMatch(/^tokendesk_http_request_duration_seconds_bucket\{.*route="\/oauth\/token",status_class="2xx".*\} \d+$/m);

    // The log: access lines of the flow, found by request id; then every secret, everywhere.
    const logFile = inject("serverLogFile");
    let text = "";
    for (let i = 0; i < 50 && !text.includes(String(deviceRefresh.requestId)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = fs.readFileSync(logFile, "utf8");
    }
    const lines = text
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as AccessLine);
    const access = lines.filter((l) => l.type === "access");
    const byId = (id: string | null) => access.find((l) => l.requestId === id);
    expect(byId("proxy-trace-0001")).toMatchObject({ method: "POST", route: "/v2/user", status: 200, actorType: "api_key", level: "info" });
    expect(byId("proxy-trace-bearer")).toMatchObject({ method: "GET", route: "/v2/user/:user_id", status: 200, actorType: "user", actorId: user.user_id });
    expect(byId(generated)).toMatchObject({ route: "/oauth/token", status: 200 });
    expect(byId(deviceRefresh.requestId)).toMatchObject({ route: "/v1/Auth/RefreshToken", status: 200 });
    expect(byId(mobile.headers.get("x-request-id"))).toMatchObject({ route: "/mobile" });
    expect(typeof byId(generated)!.durationMs).toBe("number");
    expect(byId(generated)!.instance).toBeTruthy();
    for (const l of access) expect(l.route).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-|et_|\?/);

    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      expect(text.includes(secret), `a secret of the flow (${secret.slice(0, 6)}…) is in the log`).toBe(false);
    }
  });

  it("refuses /metrics without the token, HEAD included, and says how to authenticate", async () => {
    const res = await fetch(`${baseUrl()}/metrics`, { method: "HEAD" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});
