/**
 * `tokendesk device …`, the simulator support and QA use to replay an app: real child processes of
 * the CLI driving the real SDK against a real server — API-key mode recorded as an installation,
 * the migration to a sign-in token, status, a call as the user, sign-out.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { type DatabaseHandle, openDatabase, queryRows } from "@/db/client";
import { createApiKey } from "@/lib/api-keys";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { ROOT } from "../helpers/server";

const baseUrl = inject("baseUrl");
const BIN = path.join(ROOT, "bin", "tokendesk.mjs");
let db: DatabaseHandle;
let key: string;
let stateFile: string;

/** Runs the CLI without blocking the event loop (the server under test is another process). */
function device(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "device", "--state", stateFile, "--url", baseUrl, ...args], {
      cwd: os.tmpdir(),
      env: { ...process.env, CI: "true" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function api(p: string, init: RequestInit = {}) {
  return fetch(`${baseUrl}${p}`, { ...init, headers: { "Content-Type": "application/json", "X-Vital-API-Key": key, ...init.headers } });
}

beforeAll(async () => {
  db = await openDatabase({ databaseUrl: inject("databaseUrl"), maxConnections: 2 });
  key = (
    await createApiKey(
      db.db,
      systemActor("test"),
      { name: "simulator", environment: "sandbox", region: "us", scopes: ["users:read", "users:write", "sign_in_tokens:write"] },
      NO_REQUEST,
    )
  ).key;
  stateFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "td-device-")), "device.json");
});
afterAll(async () => db?.close());

vi.setConfig({ testTimeout: 300_000 });

describe("device simulator", () => {
  it("replays an app on an API key, migrates it to a sign-in token, calls as the user and signs out", async () => {
    const created = await api("/v2/user", { method: "POST", body: JSON.stringify({ client_user_id: `sim-${crypto.randomUUID()}` }) });
    const { user_id: userId } = (await created.json()) as { user_id: string };

    const configured = await device("--json", "configure", "--api-key", key, "--environment", "sandbox", "--region", "us", "--user-id", userId);
    expect(configured.status, configured.stderr).toBe(0);
    const { installationId, status } = JSON.parse(configured.stdout) as { installationId: string; status: string[] };
    expect(status.sort()).toEqual(["configured", "signedIn", "useApiKey"]);

    const call = await device("--json", "call", `/v2/user/${userId}`);
    expect(call.status, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ status: 200, body: { user_id: userId } });
    const seen = await queryRows<{ n: number }>(
      db.db,
      sql`select count(*)::int as n from api_key_installations where installation_id = ${installationId} and migrated_at is null`,
    );
    expect(Number(seen[0]!.n)).toBe(1);

    const minted = await api(`/v2/user/${userId}/sign_in_token`, { method: "POST" });
    const { sign_in_token: token } = (await minted.json()) as { sign_in_token: string };
    const migrated = await device("--json", "migrate", token);
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout)).toEqual({ userId, migrated: true });

    const after = JSON.parse((await device("--json", "status")).stdout) as { status: string[]; userId: string };
    expect(after.status.sort()).toEqual(["configured", "signedIn", "useSignInToken"]);
    expect(after.userId).toBe(userId);
    expect(fs.readFileSync(stateFile, "utf8")).not.toContain(key); // the API key is forgotten
    expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);

    const asUser = await device("--json", "call", `/v2/user/${userId}`);
    expect(JSON.parse(asUser.stdout)).toMatchObject({ status: 200 });

    // A second migration is refused in words, with the SDK's error code and exit code 1.
    const again = await device("migrate", token);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/not in API-key mode/);

    expect((await device("sign-out")).status).toBe(0);
    expect(JSON.parse((await device("--json", "status")).stdout).status).toEqual([]);
    const [session] = await queryRows<{ revoked_at: Date | null }>(db.db, sql`select revoked_at from sdk_sessions where user_id = ${userId}::uuid`);
    expect(session!.revoked_at).not.toBeNull();
  });
});
