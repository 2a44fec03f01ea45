/**
 * The operator's commands, run as real child processes against an embedded data directory (and a
 * PostgreSQL database when TEST_DB=postgres): --version, --help, --json and exit codes; staff,
 * users, API keys, instances, the janitor; and backup → restore into an empty data directory, after
 * which the audit chain verifies and a refresh token issued before the backup still works.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { auditEvents } from "@/db/schema";
import { apiKeyActor, authenticateApiKey, createApiKey } from "@/lib/api-keys";
import { verifyAuditLog } from "@/lib/audit/verify";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { refreshSdkSession } from "@/lib/oauth/refresh";
import { clearSigningKeyCache, ensureSigningKey } from "@/lib/oauth/signing-keys";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { createUser } from "@/lib/users";
import { TEST_SECRET } from "../../vitest.config";
import { CLI_ENV, cliScript } from "../helpers/cli";
import { createPostgresDatabase, testBackend, withDatabase } from "../helpers/db";
import { ROOT } from "../helpers/server";

vi.setConfig({ testTimeout: 600_000 });

function cli(args: string[], env: Record<string, string>, input = "", via: "bundle" | "tsx" = "bundle") {
  const r = spawnSync(process.execPath, [cliScript(via), ...args], {
    cwd: os.tmpdir(),
    env: { ...process.env, CI: "true", ...(via === "bundle" ? CLI_ENV : {}), ...env },
    input,
    encoding: "utf8",
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = (r: { stdout: string }) => JSON.parse(r.stdout);

const system = systemActor("test");
// Each run starts Node, the CLI and the database: the commands are adapters over domain functions tested
// on both databases elsewhere, so they run once, on the embedded database of a fresh data directory;
// on PostgreSQL only what differs there (backup refers to pg_dump).
const embedded = testBackend() === "pglite" ? (["embedded"] as const) : [];
const postgresOnly = testBackend() === "postgres" ? (["postgres"] as const) : [];

describe.each(embedded)("operator CLI on %s", () => {
  let env: Record<string, string>;
  let open: () => Promise<DatabaseHandle>;
  let cleanup: () => Promise<void>;
  beforeAll(() => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-ops-"));
    env = { TOKENDESK_DATA_DIR: dataDir, DATABASE_URL: "", TOKENDESK_SECRET: TEST_SECRET };
    open = () => openDatabase({ databaseUrl: null, dataDir });
    cleanup = async () => fs.rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(() => cleanup());

  const withDb = <T>(fn: (h: DatabaseHandle) => Promise<T>) => withDatabase(open, fn, { migrate: true });

  it("prints its version and help, and answers bad usage with exit 2", () => {
    // Both ways the command ships: `npx tokendesk` (bin/tokendesk.mjs and tsx, the version read from
    // package.json) and the container's bundle (the version written into it at build time).
    const pkgVersion = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version;
    for (const via of ["tsx", "bundle"] as const) {
      const version = cli(["--version"], env, "", via);
      expect(version.status, via).toBe(0);
      expect(version.stdout.trim(), via).toBe(pkgVersion);
    }
    const help = cli(["staff", "--help"], env);
    expect(help.status).toBe(0);
    for (const sub of ["list", "disable", "enable", "reset-password", "set-role"]) expect(help.stdout).toContain(sub);
    expect(cli(["users", "disable", "--help"], env).stdout).toMatch(/--reason <text>/);
    expect(cli(["staff", "set-role", "someone"], env).status).toBe(2); // --role missing
  });

  it("manages staff: list, set-role, disable/enable, reset-password; refuses to remove the last admin", () => {
    expect(cli(["staff", "create", "--email", "ops@example.test", "--role", "admin"], env, "operator password 1\n").status).toBe(0);
    expect(cli(["staff", "create", "--email", "sup@example.test", "--role", "support", "--json"], env, "operator password 2\n").status).toBe(0);
    const list = cli(["staff", "list", "--json"], env);
    expect(list.status).toBe(0);
    expect(json(list).map((s: { email: string; role: string }) => `${s.email}:${s.role}`)).toEqual(["ops@example.test:admin", "sup@example.test:support"]);

    expect(json(cli(["staff", "set-role", "SUP@example.test", "--role", "auditor", "--json"], env))).toMatchObject({ role: "auditor" });
    expect(json(cli(["staff", "disable", "sup@example.test", "--json"], env))).toMatchObject({ disabled: true });
    expect(json(cli(["staff", "enable", "sup@example.test", "--json"], env))).toMatchObject({ disabled: false });
    const last = cli(["staff", "disable", "ops@example.test"], env);
    expect(last.status).toBe(1);
    expect(last.stderr).toMatch(/last active admin/);
    expect(cli(["staff", "reset-password", "sup@example.test", "--password-stdin"], env, "a brand new password\n").status).toBe(0);
  });

  it("finds, disables and enables users, revokes API keys and rotates an InstanceKey, each audited", async () => {
    const created = json(cli(["api-keys", "create", "--name", "ops", "--environment", "sandbox", "--region", "us", "--json"], env));
    const userId = await withDb(async ({ db }) => {
      const actor = apiKeyActor(await authenticateApiKey(db, created.key, null));
      return (await createUser(db, actor, { client_user_id: "ops-customer-42", email: "noor@example.test" }, NO_REQUEST)).id;
    });
    const found = cli(["users", "find", "ops-customer", "--json"], env);
    expect(found.status).toBe(0);
    expect(json(found).users.map((u: { id: string }) => u.id)).toEqual([userId]);
    const none = cli(["users", "find", "nobody-here", "--json"], env);
    expect([none.status, json(none).users]).toEqual([1, []]);

    expect(json(cli(["users", "disable", userId, "--reason", "ticket 7", "--json"], env))).toMatchObject({ status: "disabled" });
    expect(json(cli(["users", "enable", userId, "--reason", "ticket 7 resolved", "--json"], env))).toMatchObject({ status: "active" });

    expect(json(cli(["api-keys", "revoke", created.id, "--reason", "rotated out", "--json"], env))).toMatchObject({
      id: created.id,
      revokedAt: expect.any(String),
    });
    expect(cli(["api-keys", "revoke", "00000000-0000-7000-8000-000000000000", "--reason", "x"], env).status).toBe(1);

    const instance = json(cli(["instances", "create", "--name", "Fleet", "--environment", "sandbox", "--json"], env));
    const rotated = cli(["instances", "rotate-key", instance.instanceId, "--reason", "leaked", "--json"], env);
    expect(rotated.status).toBe(0);
    expect(json(rotated).instanceKey).toMatch(/^ik_/);
    expect(json(rotated).instanceKey).not.toBe(instance.instanceKey);

    await withDb(async ({ db }) => {
      const actions = (await db.select().from(auditEvents).where(eq(auditEvents.actorName, "cli"))).map((e) => e.action);
      for (const a of ["user.disabled", "user.enabled", "api_key.revoked", "instance.key_rotated", "staff.role_changed", "staff.password_reset"]) {
        expect(actions).toContain(a);
      }
      const [rot] = await db.select().from(auditEvents).where(eq(auditEvents.action, "instance.key_rotated"));
      expect(JSON.stringify(rot!.details)).not.toContain(json(rotated).instanceKey);
    });
  });

  it("runs the janitor and changes retention per environment", () => {
    const run = cli(["janitor", "run", "--json"], env);
    expect(run.status).toBe(0);
    expect(json(run)).toMatchObject({ ran: true, counts: { signInTokens: 0 } });
    const set = cli(["janitor", "retention", "--environment", "production", "--idv-captured-days", "14", "--json"], env);
    expect(set.status).toBe(0);
    expect(json(set)).toEqual([expect.objectContaining({ environment: "production", idvCapturedDays: 14, signInTokensDays: 7 })]);
    const bad = cli(["janitor", "retention", "--environment", "sandbox", "--idv-captured-days", "0"], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/Captured identity photos' retention must be at least 1 day/);
  });

  it("backs up and restores into an empty data directory: the chain verifies, an old refresh token works", async () => {
    const refreshToken = await withDb(async ({ db }) => {
      clearSigningKeyCache();
      await ensureSigningKey(db);
      const { key } = await createApiKey(
        db,
        system,
        { name: "backup", environment: "sandbox", region: "us", scopes: ["users:write", "sign_in_tokens:write"] },
        NO_REQUEST,
      );
      const actor = apiKeyActor(await authenticateApiKey(db, key, null));
      const user = await createUser(db, actor, { client_user_id: "before-backup" }, NO_REQUEST);
      const { signInToken: sign_in_token } = await issueSignInToken(db, actor, user.id, {}, NO_REQUEST);
      return (await exchangeSignInToken(db, { signInToken: sign_in_token }, NO_REQUEST)).refresh_token;
    });
    clearSigningKeyCache();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "td-bk-")), "tokendesk.backup");
    const backup = cli(["backup", "--out", out, "--json"], env);
    expect(backup.stderr).toBe("");
    expect(json(backup)).toMatchObject({ file: out, schemaVersion: expect.any(Number) });
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(out).includes(Buffer.from(TEST_SECRET))).toBe(false);

    const secretFile = path.join(os.tmpdir(), `td-secret-${process.pid}`);
    fs.writeFileSync(secretFile, `${TEST_SECRET}\n`, { mode: 0o600 });
    const wrongFile = `${secretFile}-wrong`;
    fs.writeFileSync(wrongFile, `${"w".repeat(48)}\n`, { mode: 0o600 });
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "td-restore-"));
    const restoreEnv = { TOKENDESK_DATA_DIR: fresh, DATABASE_URL: "", TOKENDESK_SECRET: "" };
    const wrong = cli(["restore", "--from", out, "--secret-file", wrongFile], { ...restoreEnv, TOKENDESK_DATA_DIR: `${fresh}-wrong` });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/not the one the backup was made with/);
    expect(cli(["restore", "--from", out], restoreEnv).status).toBe(2); // no secret given

    const restored = cli(["restore", "--from", out, "--secret-file", secretFile, "--json"], restoreEnv);
    expect(restored.stderr).toBe("");
    expect(json(restored)).toMatchObject({ dataDir: fresh });
    expect(cli(["restore", "--from", out, "--secret-file", secretFile], restoreEnv).status).toBe(1); // not empty any more
    const verify = cli(["audit", "verify", "--json"], restoreEnv);
    expect(verify.status).toBe(0);
    expect(json(verify)).toMatchObject({ ok: true });

    const h = await openDatabase({ databaseUrl: null, dataDir: fresh });
    try {
      expect((await verifyAuditLog(h.db)).ok).toBe(true);
      const next = await refreshSdkSession(h.db, refreshToken, NO_REQUEST);
      expect(next.refresh_token).toMatch(/^rt_/);
    } finally {
      await h.close();
      clearSigningKeyCache();
    }
  });
});

describe.each(postgresOnly)("operator CLI on %s", () => {
  it("refuses backup and restore, pointing to pg_dump", async () => {
    const created = await createPostgresDatabase("td_ops");
    try {
      const env = { DATABASE_URL: created.url, TOKENDESK_SECRET: TEST_SECRET };
      const r = cli(["backup", "--out", path.join(os.tmpdir(), "never.tdbackup")], env);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/pg_dump/);
    } finally {
      await created.drop();
    }
  });
});
