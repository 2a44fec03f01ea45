/**
 * `tokendesk webhooks …` as real child processes on an embedded data directory (TEST_DB=pglite) or
 * a fresh PostgreSQL database: create prints {id, secret} once, list never shows a secret, bad
 * input fails before anything is written, disable/enable/rotate-secret/delete are audited as the
 * CLI, and `dispatch --once` delivers what is due to a receiver that verifies the signature.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DatabaseHandle, openDatabase, queryRows } from "@/db/client";
import { auditEvents, webhookDeliveries } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createInstance, registerDevice } from "@/lib/devices";
import { TEST_SECRET } from "../../vitest.config";
import { CLI_ENV, cliScript } from "../helpers/cli";
import { createPostgresDatabase, testBackend, withDatabase } from "../helpers/db";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver";

// Each run starts Node, the CLI bundle and the database afresh: seconds each on a quiet machine, far more on a loaded one.
vi.setConfig({ testTimeout: 900_000, hookTimeout: 120_000 });

/** Asynchronous, unlike the other CLI tests: the receiver in this process must answer while it runs. */
function cli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliScript(), ...args], {
      cwd: os.tmpdir(),
      env: { ...process.env, CI: "true", ...CLI_ENV, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ status: signal ? null : code, stdout, stderr });
    });
  });
}

const backend = testBackend() === "postgres" ? "postgres" : "embedded";

describe(`webhooks commands on ${backend}`, () => {
  let env: Record<string, string>;
  let open: () => Promise<DatabaseHandle>;
  let cleanup: () => Promise<void>;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // The receiver is on loopback: the operator's switch for private addresses, as tests need.
    const common = { TOKENDESK_SECRET: TEST_SECRET, WEBHOOK_ALLOW_PRIVATE: "1" };
    if (backend === "embedded") {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cli-webhooks-"));
      env = { ...common, TOKENDESK_DATA_DIR: dataDir, DATABASE_URL: "" };
      open = () => openDatabase({ databaseUrl: null, dataDir });
      cleanup = async () => fs.rmSync(dataDir, { recursive: true, force: true });
    } else {
      const created = await createPostgresDatabase("td_cli_webhooks");
      env = { ...common, DATABASE_URL: created.url };
      open = () => openDatabase({ databaseUrl: created.url, maxConnections: 2 });
      cleanup = created.drop;
    }
  });
  afterAll(async () => {
    await receiver.close();
    await cleanup();
  });

  const withDb = <T>(fn: (h: DatabaseHandle) => Promise<T>) => withDatabase(open, fn, { migrate: true });

  it("creates, lists, delivers, rotates, disables and deletes, audited as the CLI", async () => {
    // Bad input: exit 2 before the database is touched.
    const badEvents = await cli(["webhooks", "create", "--url", receiver.url(), "--environment", "sandbox", "--events", "user.created,user.exploded"], env);
    expect(badEvents.status).toBe(2);
    expect(badEvents.stderr).toMatch(/--events: Unknown event type user\.exploded/);

    const created = await cli(
      ["webhooks", "create", "--url", receiver.url("/cli"), "--environment", "sandbox", "--events", "device.registered", "--json"],
      env,
    );
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    const { id, secret } = JSON.parse(created.stdout) as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);

    const listed = await cli(["webhooks", "list", "--json"], env);
    expect(listed.status).toBe(0);
    expect(listed.stdout).not.toContain(secret.slice(6));
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, url: receiver.url("/cli"), eventTypes: ["device.registered"], enabled: true })]);

    // An event, written by the domain function, delivered by `dispatch --once`.
    const deviceId = await withDb(async (h) => {
      const { instance } = await createInstance(h.db, systemActor("test"), { name: "Fleet", environment: "sandbox" }, NO_REQUEST);
      const row = await h.db.query.instances.findFirst({ where: (i, { eq }) => eq(i.id, instance.id) });
      const device = await registerDevice(
        h.db,
        row!,
        { UserFields: { ClientId: "cli-driver" }, CustomToken: null, FirstName: null, LastName: null, Nickname: null, Phone: null, Email: null },
        NO_REQUEST,
      );
      return device.deviceId;
    });
    receiver.setSecrets([secret]);
    const dispatched = await cli(["webhooks", "dispatch", "--once", "--json"], env);
    expect(dispatched.stderr).toBe("");
    expect(JSON.parse(dispatched.stdout)).toMatchObject({ claimed: 1, succeeded: 1, failed: 0 });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ verified: true, path: "/cli", payload: { type: "device.registered", data: { device_id: deviceId } } });

    const rotated = await cli(["webhooks", "rotate-secret", id, "--overlap", "60", "--json"], env);
    expect(rotated.status).toBe(0);
    const r = JSON.parse(rotated.stdout) as { secret: string; previous_secret_signs_until: string };
    expect(r.secret).not.toBe(secret);
    expect(new Date(r.previous_secret_signs_until).getTime()).toBeGreaterThan(Date.now());
    expect((await cli(["webhooks", "disable", id], env)).stdout).toMatch(/ disabled /);
    const deleted = await cli(["webhooks", "delete", id], env);
    expect(deleted.status).toBe(0);

    await withDb(async (h) => {
      const audit = await h.db.select().from(auditEvents).where(eq(auditEvents.targetId, id)).orderBy(auditEvents.id);
      expect(audit.map((a) => [a.action, a.actorName])).toEqual([
        ["webhook_endpoint.created", "cli"],
        ["webhook_endpoint.secret_rotated", "cli"],
        ["webhook_endpoint.disabled", "cli"],
        ["webhook_endpoint.deleted", "cli"],
      ]);
      expect(await h.db.select().from(webhookDeliveries)).toEqual([]);
      const dump = await queryRows<{ j: string }>(h.db, sql`select row_to_json(a)::text as j from audit_events a`);
      for (const s of [secret, r.secret]) expect(dump.map((d) => d.j).join()).not.toContain(s.slice(6));
    });
  });
});
