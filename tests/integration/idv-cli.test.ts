/**
 * `tokendesk workflows list|create`, run as a real child process against an embedded data
 * directory or (TEST_DB=postgres) a fresh PostgreSQL database: the JSON automation reads, the
 * audit event it leaves, and bad usage refused with exit 2 and nothing written.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { openDatabase } from "@/db/client";
import { auditEvents, workflows } from "@/db/schema";
import { TEST_SECRET } from "../../vitest.config";
import { CLI_ENV, cliScript } from "../helpers/cli";
import { createPostgresDatabase, testBackend } from "../helpers/db";

vi.setConfig({ testTimeout: 240_000 });

let env: Record<string, string>;
let cleanup: () => Promise<void>;
let databaseUrl: string | null = null;
let dataDir: string | null = null;

beforeAll(async () => {
  if (testBackend() === "postgres") {
    const created = await createPostgresDatabase("td_idv_cli");
    databaseUrl = created.url;
    env = { DATABASE_URL: created.url, TOKENDESK_SECRET: TEST_SECRET };
    cleanup = created.drop;
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-idv-cli-"));
    env = { TOKENDESK_DATA_DIR: dataDir, DATABASE_URL: "", TOKENDESK_SECRET: TEST_SECRET };
    cleanup = async () => fs.rmSync(dataDir!, { recursive: true, force: true });
  }
});
afterAll(async () => {
  await cleanup();
});

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [cliScript(), ...args], {
    cwd: os.tmpdir(),
    env: { ...process.env, CI: "true", ...CLI_ENV, ...env },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it("creates and lists workflows as JSON, audited as the CLI; refuses unknown steps with exit 2", async () => {
  const bad = cli(["workflows", "create", "--name", "Broken", "--steps", "document,passport"]);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain("Unknown step passport");

  const created = cli(["workflows", "create", "--name", "KYC: ID and selfie", "--steps", "document,selfie,form", "--json"]);
  expect(created.status, created.stderr).toBe(0);
  const wf = JSON.parse(created.stdout) as { id: string; name: string; steps: Array<{ id: string; type: string }> };
  expect(Object.keys(wf)).toEqual(["id", "name", "steps"]);
  expect(wf.name).toBe("KYC: ID and selfie");
  expect(wf.steps.map((s) => s.type)).toEqual(["document", "selfie", "form"]);

  const listed = cli(["workflows", "list", "--json"]);
  expect(listed.status, listed.stderr).toBe(0);
  const list = JSON.parse(listed.stdout) as Array<{ id: string; name: string; steps: unknown[] }>;
  expect(list).toEqual([{ id: wf.id, name: wf.name, steps: wf.steps }]);
  expect(cli(["workflows", "list"]).stdout).toContain(`${wf.id}  KYC: ID and selfie  (document, selfie, form)`);

  const h = await openDatabase({ databaseUrl, dataDir });
  try {
    expect(await h.db.select().from(workflows)).toHaveLength(1);
    const [ev] = await h.db.select().from(auditEvents).where(eq(auditEvents.action, "workflow.created"));
    expect(ev).toMatchObject({ actorType: "system", actorName: "cli", targetId: wf.id });
  } finally {
    await h.close();
  }
});
