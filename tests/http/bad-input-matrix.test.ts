/**
 * The bad-input matrix over every machine route (derived from server/routes MACHINE_ROUTES, so a new
 * route is covered at once) and every string field we know of: NUL bytes, lone surrogates, `%ff`
 * and `%00` in path segments and queries, 20 MB bodies, deep JSON nesting. Each answer is a 4xx in
 * the route family's shape — never a 500 — and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { MACHINE_ROUTES, type MachineRoute } from "@/server/routes";
import { baseUrl, mintKey, openTestDb, rowCounts } from "../helpers/machine-api";

let handle: DatabaseHandle;
let key: string;
let before: Record<string, number>;

beforeAll(async () => {
  handle = await openTestDb();
  key = (await mintKey(handle)).key;
  before = await rowCounts(handle);
});
afterAll(async () => {
  await handle.close();
});

const UUID = "0190f5c2-6c1e-7d4a-9b2f-3c4d5e6f7a8b";
/** Every string field a machine route reads from a JSON body (API.md), each tried with every bad value. */
const FIELDS = [
  "client_user_id",
  "email",
  "name",
  "expires_in_seconds",
  "reason",
  "workflow_id",
  "external_user_id",
  "user_id",
  "environment",
  "team_id",
  "metadata",
  "LoginFields",
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
  "installation_id",
  "token",
];
const BAD_TEXT: Array<[string, string]> = [
  ["NUL", "a\u0000b"],
  ["lone high surrogate", "a\ud800b"],
  ["lone low surrogate", "\udc00"],
];

function concretePath(route: MachineRoute, param: string): string {
  return route.path.replace(/:(\w+)/g, (_m, name: string) => (name === "step" ? "document" : name === "id" ? UUID : name === "user_id" ? UUID : param));
}

function headersFor(route: MachineRoute): Record<string, string> {
  const h: Record<string, string> = { "X-Vital-API-Key": key, "X-Api-Key": key };
  if (route.family === "oauth") h["Content-Type"] = "application/json";
  else h["Content-Type"] = "application/json";
  return h;
}

async function send(route: MachineRoute, path: string, body?: string, extra: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl()}${path}`, {
    method: route.method,
    headers: { ...headersFor(route), ...extra },
    body: route.method === "GET" || route.method === "DELETE" ? undefined : body,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* checked below */
  }
  return { status: res.status, text, json };
}

/** The family's error shape: {error:{code,message}}, RFC 6749 {error, error_description}, or the telematics envelope. */
function expectFamilyShape(route: MachineRoute, res: { status: number; text: string; json: unknown }, what: string) {
  expect(res.status, `${what}: ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
  const body = res.json as Record<string, unknown> | null;
  expect(body, `${what} answered JSON`).not.toBeNull();
  if (route.family === "oauth") expect(typeof body!.error, what).toBe("string");
  else if (route.family === "telematics") expect(Array.isArray(body!.Errors), what).toBe(true);
  else expect(body!.error, what).toMatchObject({ code: expect.any(String), message: expect.any(String) });
}

const withParams = MACHINE_ROUTES.filter((r) => r.path.includes(":"));
const withBody = MACHINE_ROUTES.filter((r) => r.method === "POST" || r.method === "PUT");

describe("paths", () => {
  it.each(withParams.map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s: %ff, %00 and a lone surrogate in a segment are the family's 4xx",
    async (_n, route) => {
      for (const segment of ["%ff", "a%00b", "%ED%A0%80", "%C0%AF"]) {
        expectFamilyShape(route, await send(route, concretePath(route, segment), "{}"), `${route.path} with ${segment}`);
      }
    },
  );

  it.each(MACHINE_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))("%s: NUL in the query is the family's 4xx", async (_n, route) => {
    const res = await send(route, `${concretePath(route, "x")}?q=a%00b&limit=%00&cursor=%ff`, "{}");
    // The front refuses it before any handler: a filter never meets a NUL.
    expect(res.status, res.text.slice(0, 200)).toBe(400);
    expectFamilyShape(route, res, `${route.path} with NUL in the query`);
  });
});

describe("bodies", () => {
  it.each(withBody.map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s: bad text in every field, deep nesting and 20 MB are the family's 4xx",
    async (_n, route) => {
      const path = concretePath(route, "x");
      for (const [what, bad] of BAD_TEXT) {
        // Every known field bad at once (the body's one walk refuses whichever it meets first; its
        // unit test covers each position), then the inner JSON of LoginFields, then a bad key.
        const all = Object.fromEntries(FIELDS.map((f) => [f, bad]));
        expectFamilyShape(route, await send(route, path, JSON.stringify(all)), `${route.path} every field ${what}`);
        expectFamilyShape(
          route,
          await send(route, path, JSON.stringify({ LoginFields: JSON.stringify({ Devicetoken: bad }) })),
          `${route.path} LoginFields ${what}`,
        );
        expectFamilyShape(route, await send(route, path, JSON.stringify({ [bad]: "x" })), `${route.path} key ${what}`);
      }
      const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
      expectFamilyShape(route, await send(route, path, deep), `${route.path} deep nesting`);
      expectFamilyShape(route, await send(route, path, `{"a":${'{"a":'.repeat(40)}1${"}".repeat(40)}}`), `${route.path} 40 levels`);
      const huge = await send(route, path, JSON.stringify({ name: "x".repeat(20 * 1024 * 1024) }));
      expect(huge.status).toBe(413);
    },
  );

  it("wrote nothing", async () => {
    expect(await rowCounts(handle)).toEqual({ ...before, audit_events: expect.any(Number) });
    const after = await rowCounts(handle);
    for (const t of ["users", "sign_in_tokens", "sdk_sessions", "refresh_tokens", "api_key_installations", "api_keys"]) expect(after[t], t).toBe(before[t]);
  });
});
