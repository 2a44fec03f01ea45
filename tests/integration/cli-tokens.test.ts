/**
 * `tokendesk api-keys create` and `tokendesk keys rotate` as real child processes: the key printed
 * once authenticates with its scopes and is stored only as a hash; a bad scope list fails before
 * anything is written; a rotation publishes the new key next to the previous one.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DatabaseHandle, openDatabase, queryRows } from "@/db/client";
import { authenticateApiKey } from "@/lib/api-keys";
import { clearSigningKeyCache, publicJwks } from "@/lib/oauth/signing-keys";
import { TEST_SECRET } from "../../vitest.config";
import { CLI_ENV, cliScript } from "../helpers/cli";
import { createPostgresDatabase, testBackend, withDatabase } from "../helpers/db";

vi.setConfig({ testTimeout: 240_000 });

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [cliScript(), ...args], {
    cwd: os.tmpdir(),
    env: { ...process.env, CI: "true", ...CLI_ENV, ...env },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const backends = testBackend() === "postgres" ? (["postgres"] as const) : (["embedded"] as const);

describe.each(backends)("key commands on %s", (backend) => {
  let env: Record<string, string>;
  let open: () => Promise<DatabaseHandle>;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    if (backend === "embedded") {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cli-keys-"));
      env = { TOKENDESK_DATA_DIR: dataDir, DATABASE_URL: "", TOKENDESK_SECRET: TEST_SECRET };
      open = () => openDatabase({ databaseUrl: null, dataDir });
      cleanup = async () => fs.rmSync(dataDir, { recursive: true, force: true });
    } else {
      const created = await createPostgresDatabase("td_cli_keys");
      env = { DATABASE_URL: created.url, TOKENDESK_SECRET: TEST_SECRET };
      open = () => openDatabase({ databaseUrl: created.url, maxConnections: 2 });
      cleanup = created.drop;
    }
  });
  afterAll(async () => {
    clearSigningKeyCache();
    await cleanup();
  });

  const withDb = <T>(fn: (h: DatabaseHandle) => Promise<T>) => withDatabase(open, fn);

  it("creates a key that works with exactly its scopes and is stored only as a hash", async () => {
    const r = cli(
      ["api-keys", "create", "--name", "CI backend", "--environment", "production", "--region", "eu", "--scopes", "users:read,sign_in_tokens:write", "--json"],
      env,
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; key: string; prefix: string };
    expect(out.key).toMatch(/^pk_eu_[0-9A-Za-z]{49}$/);
    expect(out.key.startsWith(out.prefix)).toBe(true);
    await withDb(async (h) => {
      const row = await authenticateApiKey(h.db, out.key, "users:read");
      expect(row).toMatchObject({ id: out.id, environment: "production", region: "eu", scopes: ["users:read", "sign_in_tokens:write"] });
      await expect(authenticateApiKey(h.db, out.key, "users:write")).rejects.toMatchObject({ code: "insufficient_scope" });
      const dump = await queryRows<{ j: string }>(h.db, sql`select row_to_json(k)::text as j from api_keys k`);
      expect(dump.map((d) => d.j).join()).not.toContain(out.key);
    });
  });

  it("refuses unknown scopes and environments without writing anything", async () => {
    const bad = cli(["api-keys", "create", "--name", "x", "--environment", "sandbox", "--region", "us", "--scopes", "users:read,everything"], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("Unknown scope everything");
    const env2 = cli(["api-keys", "create", "--name", "x", "--environment", "staging", "--region", "us"], env);
    expect(env2.status).toBe(1);
    expect(env2.stderr).toContain("Environment must be sandbox or production."); // the field's title, as every message names it
    await withDb(async (h) => {
      const [n] = await queryRows<{ n: number }>(h.db, sql`select count(*)::int as n from api_keys`);
      expect(Number(n!.n)).toBe(1);
    });
  });

  it("rotates the signing key; the JWKS then holds the new and the previous key", async () => {
    const first = cli(["keys", "rotate", "--json"], env);
    expect(first.status).toBe(0);
    const second = cli(["keys", "rotate", "--json"], env);
    expect(second.status).toBe(0);
    const a = JSON.parse(first.stdout) as { kid: string };
    const b = JSON.parse(second.stdout) as { kid: string; previous_kid: string };
    expect(b.previous_kid).toBe(a.kid);
    await withDb(async (h) => {
      clearSigningKeyCache();
      const kids = (await publicJwks(h.db)).keys.map((k) => k.kid);
      expect(kids).toEqual(expect.arrayContaining([a.kid, b.kid]));
      const [ev] = await queryRows<{ n: number }>(h.db, sql`select count(*)::int as n from audit_events where action = 'signing_key.rotated'`);
      expect(Number(ev!.n)).toBe(2);
    });
  });
});
