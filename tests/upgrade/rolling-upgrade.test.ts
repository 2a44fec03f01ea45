/**
 * A rolling upgrade on one PostgreSQL, as an operator runs it: the previous release
 * (scripts/previous-release.mjs: PREVIOUS_RELEASE or the commit this release's work started from,
 * built once and cached) serves an empty database it migrated itself, and its own CLI creates a Team
 * API key and a device instance; clients sign in and register devices through it. Then this release
 * starts beside it and migrates the database ahead. Traffic alternates between the two — users,
 * sign-in tokens, exchanges, bearer calls, refreshes, revocations, device registration, login and
 * refresh, with credentials made by either release and tokens issued by either — with zero errors,
 * while this release stays ready. Last, the previous release is restarted on the migrated database
 * (a rollback, or an old pod rescheduled mid-rollout) and serves again, and the audit log both
 * releases wrote and sealed verifies as one chain.
 *
 * Readiness of the previous release: a release whose /api/health knows `schemaAhead` must stay ready
 * (200) on a database ahead of it. Releases before issue 15 (29e282a among them) answer 503 there by
 * design — which is what issue 15 changed — so for them the test asserts that the answer says why
 * (the database answers and is ahead) while their traffic is still served without an error.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { API_KEY_SCOPES, createApiKey } from "@/lib/api-keys";
import { verifyAuditLog } from "@/lib/audit/verify";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createInstance } from "@/lib/devices";
import { freePort, type NextServer, startNextServer, superviseServer } from "../../scripts/next-server";
import { preparePreviousRelease } from "../../scripts/previous-release.mjs";
import { TEST_SECRET } from "../../vitest.config";
import { createPostgresDatabase } from "../helpers/db";

const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const SIGN_IN_TOKEN_TYPE = "urn:tokendesk:params:oauth:token-type:sign-in-token";
/** Rounds of alternating traffic after the upgrade (each ~20 requests), and after the rollback. */
const ROUNDS = 16;
const ROLLBACK_ROUNDS = 4;

interface Previous {
  commit: string;
  dir: string;
  source: string;
  seconds: number;
}

let previous: Previous;
let db: { url: string; drop: () => Promise<void> };
let oldServer: NextServer | null = null;
let newServer: NextServer | null = null;
/** Both releases sit behind one public address, as behind a load balancer: the tokens' issuer. */
let publicUrl: string;
const env = () => ({ DATABASE_URL: db.url, TOKENDESK_SECRET: TEST_SECRET, TRUSTED_PROXY: "x-forwarded-for", LOG_LEVEL: "warn", PUBLIC_URL: publicUrl });

/** The previous release's `next start` from its own directory (it predates server.ts). */
async function startPrevious(): Promise<NextServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [path.join(previous.dir, "node_modules", "next", "dist", "bin", "next"), "start", "-p", String(port), "-H", "127.0.0.1"],
    {
      cwd: previous.dir,
      env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", NEXT_DIST_DIR: ".next", PORT: String(port), ...env() },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  return superviseServer(child, {
    url,
    port,
    name: "the previous release",
    timeoutMs: 240_000,
    // Started = answering with the database reachable (ready or, on a database ahead, "degraded").
    ready: async (u) => ((await (await fetch(`${u}/api/health`)).json()) as { database?: { reachable?: boolean } }).database?.reachable === true,
    killAfterMs: 5_000,
  });
}

/** The previous release's own CLI (through tsx, as its bin does), printing JSON. */
async function previousCli(args: string[]): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(previous.dir, "bin", "tokendesk.mjs"), ...args, "--json"], {
    cwd: previous.dir,
    env: { ...process.env, ...env() },
    timeout: 240_000,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

beforeAll(async () => {
  previous = preparePreviousRelease(undefined, (line: string) => console.log(line));
  console.log(`previous release ${previous.commit.slice(0, 12)} in ${previous.dir}: ${previous.source} in ${previous.seconds} s`);
  db = await createPostgresDatabase("td_upgrade");
  publicUrl = `http://127.0.0.1:${await freePort()}`;
}, 1_800_000);

afterAll(async () => {
  await oldServer?.stop();
  await newServer?.stop();
  await db?.drop();
  // The build stays in node_modules/.cache; the served copy is rebuilt from it next time.
  if (previous?.dir) fs.rmSync(previous.dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: any;
  text: string;
}

const counts = { requests: 0, perServer: new Map<string, number>() };

async function call(
  base: string,
  p: string,
  init: { method?: string; key?: string; bearer?: string; json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.key) headers["X-Vital-API-Key"] = init.key;
  if (init.bearer) headers.Authorization = `Bearer ${init.bearer}`;
  if (init.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(init.json);
  }
  if (init.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(`${base}${p}`, { method: init.method ?? (body !== undefined ? "POST" : "GET"), headers, body });
  const text = await res.text();
  counts.requests++;
  counts.perServer.set(base, (counts.perServer.get(base) ?? 0) + 1);
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* reported through `text` */
  }
  return { status: res.status, body: parsed, text };
}

describe("rolling upgrade from the previous release", () => {
  it("serves through both releases on a database the new one migrated, with zero errors, and the old one restarts on it", async () => {
    const errors: string[] = [];
    const name = (base: string) => (base === oldServer?.url ? "previous" : "this release");
    /** Records a non-2xx answer (every call here must succeed) and returns the body. */
    const ok = (what: string, base: string, r: Answer) => {
      if (r.status < 200 || r.status > 299) errors.push(`${what} on ${name(base)}: ${r.status} ${r.text.slice(0, 300)}`);
      return r.body ?? {};
    };

    // 1. The previous release alone: it migrates the empty database; its CLI makes credentials.
    const [started, oldKey, oldInstance] = await Promise.all([
      startPrevious(),
      previousCli(["api-keys", "create", "--name", "made by the previous release", "--environment", "sandbox", "--region", "us"]),
      previousCli(["instances", "create", "--name", "fleet of the previous release", "--environment", "sandbox"]),
    ]);
    oldServer = started;
    const before = await call(oldServer.url, "/api/health");
    expect(before.status, before.text).toBe(200);
    const oldSchema = before.body.schemaVersion as number;
    expect(oldKey.key).toBeTruthy();
    expect(oldInstance.instanceKey).toBeTruthy();

    // Clients signed in and devices registered before the upgrade.
    const o = oldServer.url;
    const earlyUser = ok("create user", o, await call(o, "/v2/user", { key: oldKey.key, json: { client_user_id: `before-upgrade-${Date.now()}` } }));
    const earlyMint = ok("mint", o, await call(o, `/v2/user/${earlyUser.user_id}/sign_in_token`, { key: oldKey.key, json: {} }));
    const early = ok(
      "exchange",
      o,
      await call(o, "/oauth/token", { form: { grant_type: TOKEN_EXCHANGE, subject_token: earlyMint.sign_in_token, subject_token_type: SIGN_IN_TOKEN_TYPE } }),
    );
    const earlyDevice = ok(
      "register device",
      o,
      await call(o, "/v1/Registration/create", { headers: { InstanceId: oldInstance.instanceId!, InstanceKey: oldInstance.instanceKey! }, json: {} }),
    ).Result;
    expect(errors).toEqual([]);

    // 2. This release starts beside it and migrates ahead.
    newServer = await startNextServer({ env: env(), timeoutMs: 240_000 });
    const n = newServer.url;
    const after = await call(n, "/api/health");
    expect(after.status, after.text).toBe(200);
    expect(after.body.schemaVersion).toBeGreaterThan(oldSchema);
    expect(after.body.schemaAhead).toBe(false);

    /** The previous release's readiness on the migrated database (see the file's comment). */
    const previousHealth = async () => {
      const r = await call(oldServer!.url, "/api/health");
      if ("schemaAhead" in (r.body ?? {})) {
        expect(r.status, r.text).toBe(200);
        expect(r.body.schemaAhead).toBe(true);
      } else {
        expect(r.body).toMatchObject({ database: { reachable: true }, schemaVersion: after.body.schemaVersion, expectedSchemaVersion: oldSchema });
      }
      return r.status;
    };
    const oldReadiness = [await previousHealth()];

    // Credentials made by this release, after the upgrade.
    const h = await openDatabase({ databaseUrl: db.url, maxConnections: 2 });
    const { key: newKey } = await createApiKey(
      h.db,
      systemActor("upgrade test"),
      { name: "made by this release", environment: "sandbox", region: "us", scopes: [...API_KEY_SCOPES] },
      NO_REQUEST,
    );
    const made = await createInstance(h.db, systemActor("upgrade test"), { name: "fleet of this release", environment: "sandbox" }, NO_REQUEST);
    await h.close();
    const keys = [oldKey.key!, newKey];
    const fleets = [
      { InstanceId: oldInstance.instanceId!, InstanceKey: oldInstance.instanceKey! },
      { InstanceId: made.instance.id, InstanceKey: made.instanceKey },
    ];

    // Tokens issued by the previous release before the upgrade keep working on both.
    const r1 = ok(
      "refresh of a pre-upgrade token",
      n,
      await call(n, "/oauth/token", { form: { grant_type: "refresh_token", refresh_token: early.refresh_token } }),
    );
    const r2 = ok("refresh", o, await call(o, "/oauth/token", { form: { grant_type: "refresh_token", refresh_token: r1.refresh_token } }));
    ok("bearer call with a pre-upgrade access token", n, await call(n, `/v2/user/${earlyUser.user_id}`, { bearer: early.access_token }));
    ok("bearer call", n, await call(n, `/v2/user/${earlyUser.user_id}`, { bearer: r2.access_token }));
    const d1 = ok(
      "device refresh of a pre-upgrade device",
      n,
      await call(n, "/v1/Auth/RefreshToken", { json: { AccessToken: earlyDevice.AccessToken.Token, RefreshToken: earlyDevice.RefreshToken } }),
    ).Result;
    ok("device self with a token of this release", o, await call(o, "/v1/Devices/me", { bearer: d1.AccessToken.Token }));
    ok(
      "device login of a pre-upgrade device",
      n,
      await call(n, "/v1/Auth/Login", {
        headers: { InstanceId: oldInstance.instanceId! },
        json: { LoginFields: JSON.stringify({ Devicetoken: earlyDevice.DeviceToken }), Password: oldInstance.instanceKey },
      }),
    );
    expect(errors).toEqual([]);

    /** One client's life, its steps alternating between the releases. */
    const round = async (i: number, servers: string[]) => {
      const a = servers[i % servers.length]!;
      const b = servers[(i + 1) % servers.length]!;
      const key = keys[i % 2]!;
      const fleet = fleets[Math.floor(i / 2) % 2]!;
      const user = ok("create user", a, await call(a, "/v2/user", { key, json: { client_user_id: `upgrade-${i}-${Date.now()}` } }));
      const minted = ok("mint", b, await call(b, `/v2/user/${user.user_id}/sign_in_token`, { key, json: {} }));
      const tokens = ok(
        "exchange",
        a,
        await call(a, "/oauth/token", { form: { grant_type: TOKEN_EXCHANGE, subject_token: minted.sign_in_token, subject_token_type: SIGN_IN_TOKEN_TYPE } }),
      );
      ok("bearer call", b, await call(b, `/v2/user/${user.user_id}`, { bearer: tokens.access_token }));
      const refreshed = ok("refresh", b, await call(b, "/oauth/token", { form: { grant_type: "refresh_token", refresh_token: tokens.refresh_token } }));
      const again = ok("refresh", a, await call(a, "/oauth/token", { form: { grant_type: "refresh_token", refresh_token: refreshed.refresh_token } }));
      ok("bearer call", a, await call(a, `/v2/user/${user.user_id}`, { bearer: again.access_token }));
      ok("key read", b, await call(b, `/v2/user/${user.user_id}`, { key }));
      ok("introspection", a, await call(a, "/oauth/introspect", { form: { token: again.access_token }, key }));
      if (i % 3 === 0) {
        ok("revoke", b, await call(b, "/oauth/revoke", { form: { token: again.refresh_token } }));
        // Revoked on one release means revoked on the other.
        const refused = await call(a, "/oauth/token", { form: { grant_type: "refresh_token", refresh_token: again.refresh_token } });
        if (refused.status !== 400 || refused.body?.error !== "invalid_grant")
          errors.push(`refresh after revoke on ${name(a)}: ${refused.status} ${refused.text}`);
      }
      const device = ok("register device", a, await call(a, "/v1/Registration/create", { headers: fleet, json: {} })).Result;
      const login = ok(
        "device login",
        b,
        await call(b, "/v1/Auth/Login", {
          headers: { InstanceId: fleet.InstanceId },
          json: { LoginFields: JSON.stringify({ Devicetoken: device.DeviceToken }), Password: fleet.InstanceKey },
        }),
      ).Result;
      ok("device self", a, await call(a, "/v1/Devices/me", { bearer: login.AccessToken.Token }));
      const rotated = ok(
        "device refresh",
        a,
        await call(a, "/v1/Auth/RefreshToken", { json: { AccessToken: login.AccessToken.Token, RefreshToken: login.RefreshToken } }),
      ).Result;
      ok("device self", b, await call(b, "/v1/Devices/me", { bearer: rotated.AccessToken.Token }));
    };

    // 3. Traffic alternates between the two releases.
    for (let i = 0; i < ROUNDS; i++) {
      await round(i, [o, n]);
      expect(errors).toEqual([]);
      if (i % 4 === 3) {
        expect((await call(n, "/api/health")).status).toBe(200);
        oldReadiness.push(await previousHealth());
      }
    }
    // Both releases publish the same signing keys.
    const jwks = [ok("jwks", o, await call(o, "/.well-known/jwks.json")), ok("jwks", n, await call(n, "/.well-known/jwks.json"))];
    expect(jwks[0].keys.map((k: { kid: string }) => k.kid).sort()).toEqual(jwks[1].keys.map((k: { kid: string }) => k.kid).sort());

    // 4. The previous release restarts on the migrated database (rollback / rescheduled pod).
    await oldServer.stop();
    oldServer = await startPrevious();
    const restarted = oldServer.url;
    oldReadiness.push(await previousHealth());
    for (let i = 0; i < ROLLBACK_ROUNDS; i++) await round(ROUNDS + i, [restarted, n]);
    expect(errors).toEqual([]);
    expect((await call(n, "/api/health")).status).toBe(200);

    // The audit log both releases wrote (and both sealed, in their sweepers) verifies as one chain.
    const audit = await openDatabase({ databaseUrl: db.url, maxConnections: 2 });
    const report = await verifyAuditLog(audit.db).finally(() => audit.close());
    expect(report.problem).toBeNull();
    expect(report.ok).toBe(true);
    expect(report.eventsChecked).toBeGreaterThan(ROUNDS * 5);

    console.log(
      `rolling upgrade from ${previous.commit.slice(0, 12)}: ${counts.requests} requests, ` +
        [...counts.perServer.entries()].map(([u, c]) => `${c} to ${u === n ? "this release" : `previous (${u})`}`).join(", ") +
        `, ${ROUNDS + ROLLBACK_ROUNDS} client rounds, 0 errors; ` +
        `previous release /api/health: ${oldReadiness.join(" ")}; audit chain of ${report.eventsChecked} events in ${report.sealsChecked} seals verified`,
    );
  }, 1_200_000);
});
