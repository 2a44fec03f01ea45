/**
 * The bad-input matrix over every machine route (derived from server/routes MACHINE_ROUTES, so a new
 * route is covered at once) and every string field of their bodies (issue 12, point 9): each field
 * with a NUL, a lone high and a lone low surrogate, as a value and as a key, in JSON (and as form
 * parameters on /oauth, multipart fields on the IDV step); `%ff`, `%00`, an encoded surrogate and an
 * overlong encoding in every path segment; a NUL, `%ff` and an encoded surrogate in the query; 20 MB
 * bodies declared by Content-Length and sent chunked; deep JSON nesting. Every request carries the
 * credentials its route wants, so the body is really read. Each answer is a 4xx in the route
 * family's shape — never a 500 — and the database is unchanged afterwards.
 */
import { randomInt } from "node:crypto";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { apiKeys } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createInstance } from "@/lib/devices";
import { createWorkflow } from "@/lib/idv/workflows";
import { MACHINE_ROUTES, type MachineRoute } from "@/server/routes";
import { type DatabaseDigest, databaseDigest, expectUnchanged } from "../helpers/db-digest";
import { baseUrl, createUserOver, mintKey, openTestDb, uniq } from "../helpers/machine-api";
import { type RawAnswer, type RawOptions, rawRequest } from "../helpers/raw-http";

let handle: DatabaseHandle;
let key: string;
let userId: string;
let ephemeral: string; // unused: starts a session if a body ever got through
let sessionToken: string;
let sessionId: string;
let instance: { instanceId: string; instanceKey: string };
let workflowId: string;
let before: DatabaseDigest;
// One made-up client address for this file (TRUSTED_PROXY is X-Forwarded-For on the test server),
// so no failure limit shared with other files is met.
const FROM = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

async function post(path: string, headers: Record<string, string>, json: unknown): Promise<any> {
  const res = await fetch(`${baseUrl()}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(json) });
  expect(res.status, path).toBe(200);
  return res.json();
}

beforeAll(async () => {
  handle = await openTestDb();
  const k = await mintKey(handle);
  key = k.key;
  userId = (await createUserOver(key)).user_id;
  const actor = systemActor("http test");
  const formWorkflow = await createWorkflow(handle.db, actor, { name: uniq("matrix form wf"), steps: ["form"] }, NO_REQUEST);
  workflowId = formWorkflow.id;
  ephemeral = (await post("/api/device/ephemeral", { Authorization: key }, {})).authorization;
  sessionToken = (await post("/api/device/ephemeral", { Authorization: key }, {})).authorization;
  sessionId = (await post(`/api/sessions?workflowId=${formWorkflow.id}`, { Authorization: sessionToken }, {})).id;
  const made = await createInstance(handle.db, actor, { name: uniq("matrix fleet"), environment: "sandbox" }, NO_REQUEST);
  instance = { instanceId: made.instance.id, instanceKey: made.instanceKey };
  // Every table, compared in full at the end; an authenticated request stamps its key's last use.
  before = await databaseDigest(handle.db, {
    except: [{ table: "api_keys", column: "last_used_at", where: inArray(apiKeys.id, [k.id]), because: "an authenticated request stamps its key's last use" }],
  });
}, 60_000);
afterAll(async () => {
  await handle.close();
});

/** Every string field a machine route reads from a body (API.md), each tried with every bad value. */
const FIELDS = [
  "client_user_id",
  "email",
  "name",
  "expires_in_seconds",
  "disabled",
  "reason",
  "ttl",
  "metadata",
  "locale",
  "workflow_id",
  "external_user_id",
  "user_id",
  "environment",
  "team_id",
  "fields",
  "LoginFields",
  "Password",
  "AccessToken",
  "RefreshToken",
  "Devicetoken",
  "DeviceName",
  "DeviceId",
  "AppVersion",
  "OsVersion",
  "grant_type",
  "subject_token",
  "subject_token_type",
  "refresh_token",
  "client_id",
  "installation_id",
  "token",
  "token_type_hint",
  "scope",
];
const BAD_TEXT: Array<[string, string]> = [
  ["NUL", "a\u0000b"],
  ["lone high surrogate", "a\ud800b"],
  ["lone low surrogate", "\udc00"],
];
const BAD_SEGMENTS = ["%ff", "a%00b", "%ED%A0%80", "%C0%AF"];

/** A value for a path parameter that reaches the route's own checks: real ids where we have them. */
function goodParam(name: string): string {
  if (name === "user_id") return userId;
  if (name === "id") return sessionId;
  if (name === "step") return "form";
  if (name === "token_id") return "0190f5c2-6c1e-7d4a-9b2f-3c4d5e6f7a8b";
  return "x";
}

const paramsOf = (route: MachineRoute) => [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);

/**
 * The route's path with `bad` in parameter `only` (every parameter good when `only` is null), and
 * the query a route needs before it reads its body (the IDV workflow).
 */
function pathOf(route: MachineRoute, only: string | null = null, bad = ""): string {
  const path = route.path.replace(/:(\w+)/g, (_m, name: string) => (name === only ? bad : goodParam(name)));
  return route.path === "/api/sessions" || route.path === "/api/v1/deeplink" ? `${path}?workflowId=${workflowId}` : path;
}

/** The credentials each route wants, so a bad body is read rather than refused unauthenticated. */
function headersFor(route: MachineRoute): Record<string, string> {
  const h: Record<string, string> = { "X-Forwarded-For": FROM, "Content-Type": "application/json" };
  if (route.path === "/api/sessions") h.Authorization = ephemeral;
  else if (route.path.startsWith("/api/sessions/")) h.Authorization = sessionToken;
  else if (route.path.startsWith("/v1/")) Object.assign(h, { InstanceId: instance.instanceId, InstanceKey: instance.instanceKey });
  else if (route.path === "/api/device/ephemeral" || route.path === "/api/v1/deeplink") h.Authorization = key;
  else h["X-Vital-API-Key"] = key;
  return h;
}

function send(route: MachineRoute, path: string, body?: RawOptions["body"], opts: Omit<RawOptions, "body"> = {}): Promise<RawAnswer> {
  const hasBody = route.method !== "GET" && route.method !== "DELETE" && body !== undefined;
  return rawRequest(route.method, path, { ...opts, headers: { ...headersFor(route), ...opts.headers }, body: hasBody ? body : undefined });
}

/** A 4xx in the family's shape: {error:{code,message}}, RFC 6749 {error, error_description}, or the telematics envelope. */
function expectFamilyShape(route: MachineRoute, res: RawAnswer, what: string) {
  const seen = `${what}: ${res.status} ${res.body.slice(0, 200)}`;
  expect(res.status, seen).toBeGreaterThanOrEqual(400);
  expect(res.status, seen).toBeLessThan(500);
  const body = res.json as Record<string, unknown> | null;
  expect(body, `${seen} (not JSON)`).not.toBeNull();
  if (route.family === "oauth") {
    expect(typeof body!.error, seen).toBe("string");
    expect(typeof body!.error_description, seen).toBe("string");
  } else if (route.family === "telematics") expect(Array.isArray(body!.Errors) && body!.Errors.length > 0, seen).toBe(true);
  else expect(body!.error, seen).toMatchObject({ code: expect.any(String), message: expect.any(String) });
}

/** Runs `jobs` a few at a time (the shared server is on a busy machine). */
async function inBatches<T>(jobs: Array<() => Promise<T>>, width = 8): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < jobs.length; i += width) out.push(...(await Promise.all(jobs.slice(i, i + width).map((j) => j()))));
  return out;
}

const name = (r: MachineRoute) => [`${r.method} ${r.path}`, r] as const;
const withParams = MACHINE_ROUTES.filter((r) => r.path.includes(":"));
const withBody = MACHINE_ROUTES.filter((r) => r.method === "POST" || r.method === "PUT");
const gets = MACHINE_ROUTES.filter((r) => r.method === "GET");

describe("paths and queries", () => {
  it("the matrix covers every machine route", () => {
    // Each route is in at least one of the lists below (OPTIONS and DELETE routes by their parameters or the query).
    expect(MACHINE_ROUTES.length).toBeGreaterThan(30);
    for (const r of MACHINE_ROUTES) expect(withParams.includes(r) || withBody.includes(r) || gets.includes(r) || r.method === "OPTIONS", r.path).toBe(true);
  });

  it.each(withParams.map(name))("%s: %ff, %00, an encoded surrogate and an overlong encoding in each segment are the family's 400", async (_n, route) => {
    const jobs = paramsOf(route).flatMap((param) =>
      BAD_SEGMENTS.map((segment) => async () => {
        const res = await send(route, pathOf(route, param, segment), "{}");
        // The front refuses an undecodable path (and a NUL in it) before any handler runs.
        expect(res.status, `${param}=${segment}`).toBe(400);
        expectFamilyShape(route, res, `${route.path} with ${param}=${segment}`);
      }),
    );
    await inBatches(jobs);
  });

  it.each(MACHINE_ROUTES.map(name))("%s: a NUL in the query is the family's 400", async (_n, route) => {
    const res = await send(route, `${pathOf(route)}?q=a%00b&limit=%00&cursor=%ff`, "{}");
    // The front refuses it before any handler: a filter never meets a NUL.
    expect(res.status, res.body.slice(0, 200)).toBe(400);
    expectFamilyShape(route, res, `${route.path} with NUL in the query`);
  });

  it.each(gets.map(name))("%s: %ff and an encoded surrogate in every query parameter are never a 500", async (_n, route) => {
    // Query values decode leniently (bad UTF-8 becomes U+FFFD): the route answers as for any odd value.
    const query = ["q", "cursor", "limit", "offset", "status", "email", "client_user_id", "workflowId"].map((p) => `${p}=%ff%ED%A0%80`).join("&");
    const res = await send(route, `${pathOf(route)}?${query}`);
    expect(res.status, res.body.slice(0, 200)).toBeLessThan(500);
    if (res.status >= 400) expectFamilyShape(route, res, `${route.path} with %ff in the query`);
  });
});

describe("bodies", () => {
  it.each(withBody.map(name))("%s: every field with a NUL or a lone surrogate, as value and as key, is the family's 4xx", async (_n, route) => {
    const path = pathOf(route);
    const jobs: Array<() => Promise<void>> = [];
    for (const [what, bad] of BAD_TEXT) {
      for (const field of FIELDS) {
        jobs.push(async () => expectFamilyShape(route, await send(route, path, JSON.stringify({ [field]: bad })), `${field} ${what}`));
        // Nested the way the API nests: IDV's fields/metadata objects, LoginFields' inner JSON.
        jobs.push(async () =>
          expectFamilyShape(
            route,
            await send(route, path, JSON.stringify({ fields: { [field]: bad }, metadata: { [field]: bad } })),
            `fields.${field} ${what}`,
          ),
        );
        // A form carries bytes, decoded as UTF-8: no lone surrogate can arrive that way, a NUL can.
        if (route.family === "oauth" && bad.includes("\0")) {
          const form = `grant_type=refresh_token&${encodeURIComponent(field)}=a%00b`;
          jobs.push(async () =>
            expectFamilyShape(
              route,
              await send(route, path, form, { headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
              `form ${field} ${what}`,
            ),
          );
        }
      }
      // LoginFields is a JSON string inside the JSON body; only the login reads it (elsewhere the key
      // is unknown and ignored, so the body would be a good one).
      if (route.path === "/v1/Auth/Login") {
        jobs.push(async () =>
          expectFamilyShape(route, await send(route, path, JSON.stringify({ LoginFields: JSON.stringify({ Devicetoken: bad }) })), `LoginFields ${what}`),
        );
      }
      jobs.push(async () => expectFamilyShape(route, await send(route, path, JSON.stringify({ [bad]: "x" })), `key ${what}`));
      jobs.push(async () => expectFamilyShape(route, await send(route, path, JSON.stringify(bad)), `bare string ${what}`));
    }
    await inBatches(jobs);
  });

  it.each(withBody.map(name))("%s: deep JSON nesting is the family's 4xx", async (_n, route) => {
    const path = pathOf(route);
    // 30,000 levels fit under the 64 KiB body limit, so the nesting itself is what is refused.
    expectFamilyShape(route, await send(route, path, `${"[".repeat(30_000)}${"]".repeat(30_000)}`), "30,000 levels of arrays");
    expectFamilyShape(route, await send(route, path, `{"a":${'{"a":'.repeat(40)}1${"}".repeat(40)}}`), "40 levels of objects");
  });

  it.each(withBody.map(name))(
    "%s: 20 MB by Content-Length is refused with 413 before it is read; sent chunked, with a 4xx before it is all sent",
    async (_n, route) => {
      const path = pathOf(route);
      const huge = JSON.stringify({ name: "x".repeat(20 * 1024 * 1024) });
      const declared = await send(route, path, huge);
      expect(declared.status, declared.body.slice(0, 200)).toBe(413);
      expectFamilyShape(route, declared, "20 MB with Content-Length");
      expect(declared.sent).toBeLessThan(huge.length);
      const chunked = await send(route, path, huge, { chunked: true });
      expectFamilyShape(route, chunked, "20 MB chunked");
      expect(chunked.sent).toBeLessThan(huge.length);
    },
  );

  it("the IDV step's multipart fields get the same check as JSON: a NUL in a value or a name is refused", async () => {
    // Multipart is bytes decoded as UTF-8 (a lone surrogate cannot arrive that way; a NUL can).
    const route = MACHINE_ROUTES.find((r) => r.path === "/api/sessions/:id/steps/:step")!;
    for (const [field, value] of [
      ["fullName", "Ada\u0000Lovelace"],
      ["full\u0000Name", "Ada"],
    ]) {
      const boundary = `----matrix${randomInt(1e9)}`;
      const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${value}\r\n--${boundary}--\r\n`, "utf8");
      const res = await send(route, pathOf(route), body, { headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` } });
      expectFamilyShape(route, res, `multipart ${JSON.stringify(field)}=${JSON.stringify(value)}`);
      // A NUL in the value is the text check's 422; in the part's name the multipart parser may refuse first (400).
      if (field === "fullName") expect(res.status, res.body).toBe(422);
      else expect([400, 422], res.body).toContain(res.status);
    }
  });
});

describe("afterwards", () => {
  it("nothing was written: every table is as it was", async () => {
    await expectUnchanged(handle.db, before);
  });
});
