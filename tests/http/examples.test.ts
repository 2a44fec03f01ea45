/**
 * examples/ run as an integrator would run them, against the suite's tokendesk on PostgreSQL: the
 * Node backend on Junction's SDK, the IDV handoff backend, and the web app in Chromium (served from
 * the origin CORS_ALLOWED_ORIGINS lists) signing in once, reconciling on reload and signing out.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type Browser, chromium } from "@playwright/test";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type DatabaseHandle, queryRows } from "@/db/client";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createWorkflow } from "@/lib/idv/workflows";
import { baseUrl, mintKey, openTestDb, uniq } from "../helpers/machine-api";
import { ROOT } from "../helpers/server";

let db: DatabaseHandle;
let env: Record<string, string>;
const example = (...p: string[]) => path.join(ROOT, "examples", ...p);

function runExample(file: string, args: string[] = []): Promise<any> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [file, ...args], { cwd: path.dirname(file), env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file}: ${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split("\n").at(-1)!)),
    ),
  );
}

beforeAll(async () => {
  db = await openTestDb();
  env = { TOKENDESK_URL: baseUrl(), TOKENDESK_API_KEY: (await mintKey(db)).key };
});
afterAll(async () => db?.close());

describe("examples/", () => {
  it("node-backend: creates (or finds) a user, mints a sign-in token and lists users with @tryvital/vital-node", async () => {
    const clientUserId = uniq("example");
    const out = await runExample(example("node-backend", "index.mjs"), [clientUserId]);
    expect(out).toMatchObject({ sameUserOnRetry: true, listed: true });
    expect(out.signInToken).toMatch(/^sit_sandbox_us_/);
    const [user] = await queryRows<{ id: string }>(db.db, sql`select id from users where client_user_id = ${clientUserId}`);
    expect(out.userId).toBe(user!.id);
  });

  it("idv-handoff: starts a handoff and prints its capture URL on this deployment", async () => {
    const workflow = await createWorkflow(db.db, systemActor("http test"), { name: uniq("example wf"), steps: ["document"] }, NO_REQUEST);
    const out = await runExample(example("idv-handoff", "index.mjs"), [workflow.id, "your-user-42"]);
    expect(out.url.startsWith(`${baseUrl()}/capture?url=`)).toBe(true);
    const [session] = await queryRows<{ metadata: any }>(db.db, sql`select metadata from idv_sessions where id = ${out.sessionId}`);
    expect(session!.metadata).toMatchObject({ externalUserId: "your-user-42" });
  });

  describe("web-app in Chromium", () => {
    let server: ChildProcess;
    let browser: Browser;
    const appUrl = () => `http://127.0.0.1:${inject("appPort")}/`;

    beforeAll(async () => {
      server = spawn(process.execPath, [example("web-app", "server.mjs")], {
        cwd: example("web-app"),
        env: { ...process.env, ...env, PORT: String(inject("appPort")) },
      });
      await new Promise<void>((resolve, reject) => {
        server.stdout!.on("data", (d) => String(d).includes("example web app on") && resolve());
        server.once("exit", (code) => reject(new Error(`the web app exited (${code})`)));
      });
      const executablePath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
      browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
    });
    afterAll(async () => {
      await browser?.close();
      server?.kill();
    });

    it("signs in once, stays signed in across a reload without a new exchange, and signs out", async () => {
      const page = await browser.newPage();
      const name = uniq("web");
      await page.goto(appUrl());
      await expect.poll(() => page.getByRole("status").textContent()).toBe("Signed out");
      await page.getByLabel("Your app's user").fill(name);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.getByRole("status").textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Signed in as ${name} \\(`));

      await page.reload(); // a relaunch: the reconciliation finds nothing to do
      await expect.poll(() => page.getByRole("status").textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Signed in as ${name}`));
      const sessions = await queryRows<{ revoked_at: Date | null }>(
        db.db,
        sql`select s.revoked_at from sdk_sessions s join users u on u.id = s.user_id where u.client_user_id = ${name}`,
      );
      expect(sessions).toHaveLength(1);

      await page.getByRole("button", { name: "Sign out" }).click();
      await expect.poll(() => page.getByRole("status").textContent()).toBe("Signed out");
      const [after] = await queryRows<{ revoked_at: Date | null }>(
        db.db,
        sql`select s.revoked_at from sdk_sessions s join users u on u.id = s.user_id where u.client_user_id = ${name}`,
      );
      expect(after!.revoked_at).not.toBeNull();
    });
  });
});
