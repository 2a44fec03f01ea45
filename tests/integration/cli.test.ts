/**
 * The `tokendesk` command, run as a real child process against an embedded data directory (the
 * pglite step) or a fresh PostgreSQL database (the postgres step): the bundle the container ships
 * (tests/helpers/cli.ts), and `migrate` through bin/tokendesk.mjs and tsx as `npx tokendesk` runs it.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DatabaseHandle, expectedSchemaVersion, migrateDatabase, openDatabase, queryRows } from "@/db/client";
import { auditEvents, staff } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createStaff, signInWithPassword } from "@/lib/staff/staff";
import { TEST_SECRET } from "../../vitest.config";
import { CLI_ENV, cliScript } from "../helpers/cli";
import { createPostgresDatabase, testBackend, withDatabase } from "../helpers/db";

// Each CLI run starts Node, the CLI and the database afresh: seconds each, a few dozen runs per test.
vi.setConfig({ testTimeout: 600_000 });

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, input?: string, via: "bundle" | "tsx" = "bundle"): CliRun {
  const r = spawnSync(process.execPath, [cliScript(via), ...args], {
    // Run from elsewhere: the command must not depend on the working directory for its code.
    cwd: os.tmpdir(),
    env: { ...process.env, CI: "true", ...(via === "bundle" ? CLI_ENV : {}), ...env },
    input: input ?? "",
    encoding: "utf8",
    timeout: 240_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As cli(), without blocking this process: for runs that talk to a server this test process holds. */
function cliAsync(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliScript(), ...args], { cwd: os.tmpdir(), env: { ...process.env, CI: "true", ...CLI_ENV, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

interface Target {
  env: Record<string, string>;
  open(): Promise<DatabaseHandle>;
  cleanup(): Promise<void>;
}

async function embeddedTarget(): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "td-cli-"));
  return {
    env: { TOKENDESK_DATA_DIR: dataDir, DATABASE_URL: "", TOKENDESK_SECRET: TEST_SECRET },
    open: () => openDatabase({ databaseUrl: null, dataDir }),
    cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function postgresTarget(): Promise<Target> {
  const created = await createPostgresDatabase("td_cli");
  return {
    env: { DATABASE_URL: created.url, TOKENDESK_SECRET: TEST_SECRET },
    open: () => openDatabase({ databaseUrl: created.url, maxConnections: 2 }),
    cleanup: created.drop,
  };
}

/** Runs `fn` with the database open in this process, closed again before the CLI runs next. */
const withDb = <T>(target: Target, fn: (h: DatabaseHandle) => Promise<T>) => withDatabase(target.open, fn);

// One target per step, as in cli-tokens.test.ts: the pglite step runs the CLI on an embedded data
// directory, the postgres step on a PostgreSQL database. (The postgres step used to run the embedded
// target as well: the same child processes on the same kind of data directory a second time in one
// `npm test`, 7 tests and ≈ 90 s of CI.)
const backends = testBackend() === "postgres" ? (["postgres"] as const) : (["embedded"] as const);

describe.each(backends)("tokendesk CLI on %s", (backend) => {
  let target: Target;
  beforeAll(async () => {
    target = backend === "embedded" ? await embeddedTarget() : await postgresTarget();
  });
  afterAll(async () => {
    await target.cleanup();
  });

  it("migrates and says the schema version (through bin/tokendesk.mjs, as `npx tokendesk`)", () => {
    const r = cli(["migrate"], target.env, undefined, "tsx");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Database is migrated: schema version ${expectedSchemaVersion()} \\(`));
    expect(r.stdout).toContain(backend === "embedded" ? "embedded PGlite in" : "PostgreSQL (DATABASE_URL)");
  });

  it("creates a staff member from --password-stdin who can then sign in", async () => {
    const r = cli(
      ["staff", "create", "--email", "Root@Example.test", "--role", "admin", "--name", "Root Admin", "--password-stdin"],
      target.env,
      "cli-created password\n",
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Created admin root@example\.test \(Root Admin, id [0-9a-f-]{36}\)\./);
    expect(r.stdout).not.toContain("cli-created password");

    await withDb(target, async ({ db }) => {
      const signedIn = await signInWithPassword(db, { email: "root@example.test", password: "cli-created password" }, NO_REQUEST);
      expect(signedIn.ok && signedIn.staff).toMatchObject({ email: "root@example.test", name: "Root Admin", role: "admin" });
      const [created] = await db.select().from(auditEvents).where(eq(auditEvents.action, "staff.created"));
      expect(created).toMatchObject({ actorType: "system", actorName: "cli", details: { email: "root@example.test", role: "admin" } });
    });
  });

  it("reads a piped password without --password-stdin when standard input is not a terminal", async () => {
    const r = cli(["staff", "create", "--email", "piped@example.test", "--role", "auditor"], target.env, "piped in password\n");
    expect(r.status).toBe(0);
    await withDb(target, async ({ db }) => {
      expect((await signInWithPassword(db, { email: "piped@example.test", password: "piped in password" }, NO_REQUEST)).ok).toBe(true);
    });
  });

  it("refuses a duplicate email, a short password, an unknown role and an empty stdin, creating nobody", async () => {
    const dup = cli(["staff", "create", "--email", "root@example.test", "--role", "qa", "--password-stdin"], target.env, "another long password\n");
    expect(dup).toMatchObject({ status: 1, stdout: "", stderr: "tokendesk: A staff member with the email root@example.test already exists.\n" });
    const short = cli(["staff", "create", "--email", "new@example.test", "--role", "qa", "--password-stdin"], target.env, "short\n");
    expect(short).toMatchObject({ status: 1, stderr: "tokendesk: Password must be at least 12 characters.\n" });
    const role = cli(["staff", "create", "--email", "new@example.test", "--role", "root", "--password-stdin"], target.env, "another long password\n");
    expect(role.status).toBe(2);
    expect(role.stderr).toContain("argument 'root' is invalid. Allowed choices are admin, support, qa, auditor.");
    const empty = cli(["staff", "create", "--email", "new@example.test", "--role", "qa", "--password-stdin"], target.env, "");
    expect(empty).toMatchObject({ status: 2, stderr: "tokendesk: No password on standard input: pipe it in, one line.\n" });
    await withDb(target, async ({ db }) => {
      expect((await db.select().from(staff)).map((s) => s.email).sort()).toEqual(["piped@example.test", "root@example.test"]);
    });
  });

  it("verifies the audit log, and exits 1 naming the first bad entry after tampering in SQL", async () => {
    const ok = cli(["audit", "verify"], target.env);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^The audit log is intact: \d+ events? and \d+ seals? checked/);

    // More events across separate transactions, so the tampering below hits sealed rows. (Written
    // in-process: the CLI's staff create is tested above, and each CLI run costs seconds.)
    await withDb(target, async ({ db }) => {
      for (const email of ["a@example.test", "b@example.test", "c@example.test"]) {
        await createStaff(db, systemActor("cli"), { email, role: "support", password: "a long enough password" }, NO_REQUEST);
      }
    });
    const sealed = cli(["audit", "seal"], target.env);
    expect(sealed.status).toBe(0);
    expect(sealed.stdout).toMatch(/^(Sealed \d+ events?\.|Nothing to seal)/);

    const created = await withDb(target, async ({ db }) =>
      db.select().from(auditEvents).where(eq(auditEvents.action, "staff.created")).orderBy(auditEvents.id),
    );
    expect(created.length).toBe(5);
    const [first, second] = created;

    const tamper = async (query: ReturnType<typeof sql>) => withDb(target, async ({ db }) => void (await db.execute(query)));
    const expectCaught = (pattern: RegExp) => {
      const r = cli(["audit", "verify"], target.env);
      expect(r.status).toBe(1);
      expect(r.stdout.split("\n")[0]).toMatch(pattern);
      return r;
    };
    const expectIntact = () => expect(cli(["audit", "verify"], target.env).status).toBe(0);

    // 1. edit a row
    await tamper(sql`update audit_events set reason = 'edited by hand' where id = ${second!.id}`);
    expectCaught(new RegExp(`^Tampering detected: event ${second!.id} \\(staff\\.created at .*\\) was edited after it was written\\.$`));
    await tamper(sql`update audit_events set reason = null where id = ${second!.id}`);

    // 2. delete a row
    const [saved] = await withDb(target, ({ db }) => queryRows<Record<string, unknown>>(db, sql`select * from audit_events where id = ${first!.id}`));
    await tamper(sql`delete from audit_events where id = ${first!.id}`);
    expectCaught(new RegExp(`^Tampering detected: Event ${first!.id}, sealed in seal #\\d+, was deleted\\.$`));
    await tamper(sql`insert into audit_events select * from json_populate_record(null::audit_events, ${JSON.stringify(saved)}::json)`);
    expectIntact();

    // 3. swap two rows (re-order)
    const placeholder = "ffffffff-ffff-7fff-bfff-ffffffffffff";
    await withDb(target, ({ db }) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`update audit_events set id = ${placeholder} where id = ${first!.id}`);
        await tx.execute(sql`update audit_events set id = ${first!.id} where id = ${second!.id}`);
        await tx.execute(sql`update audit_events set id = ${second!.id} where id = ${placeholder}`);
      }),
    );
    expectCaught(new RegExp(`^Tampering detected: .*${first!.id}`));
  });

  it("anchors the newest seal (printed, appended, posted) and fails verify --anchor once the tail is cut", async () => {
    // The previous test left the log tampered with: start this one from an empty log.
    await withDb(target, async (h) => {
      await migrateDatabase(h);
      const { db } = h;
      await db.execute(sql`delete from audit_events`);
      await db.execute(sql`delete from audit_seals`);
      for (const email of ["d@example.test", "e@example.test"]) {
        await createStaff(db, systemActor("cli"), { email, role: "support", password: "a long enough password" }, NO_REQUEST);
      }
    });
    const received: unknown[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        received.push({ type: req.headers["content-type"], body: JSON.parse(body) });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "td-anchor-")), "anchors.txt");
    try {
      const r = await cliAsync(
        ["audit", "anchor", "--append", file, "--post", `http://127.0.0.1:${(server.address() as AddressInfo).port}/anchors`],
        target.env,
      );
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const [printed] = r.stdout.split("\n");
      expect(printed).toMatch(/^\d+:[A-Za-z0-9_-]{43}$/);
      const [seq, digest] = printed!.split(":");
      expect(fs.readFileSync(file, "utf8")).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${printed}\\n$`));
      expect(received).toEqual([{ type: "application/json", body: { seal: Number(seq), digest, anchor: printed, sealedAt: expect.stringMatching(/Z$/) } }]);

      const ok = cli(["audit", "verify", "--anchor", file], target.env);
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain(`It still reaches the anchor ${printed}.`);

      // Cut the tail: the newest seal and the events it covers.
      await withDb(target, ({ db }) =>
        db.transaction(async (tx) => {
          await tx.execute(sql`delete from audit_events a using audit_seals s
                               where s.seq = ${Number(seq)} and a.txid >= s.from_txid and a.txid < s.to_txid`);
          await tx.execute(sql`delete from audit_seals where seq = ${Number(seq)}`);
        }),
      );
      const cut = cli(["audit", "verify", "--anchor", file], target.env);
      expect(cut.status).toBe(1);
      // The events written since (the verify above) are sealed again as seal #N: it exists or not,
      // but it no longer has the anchored digest.
      expect(cut.stdout.split("\n")[0]).toMatch(
        new RegExp(`^Tampering detected: (The anchor names seal #${seq}, but the newest seal is #\\d+|Seal #${seq} no longer has the anchored digest)`),
      );

      const bad = cli(["audit", "verify", "--anchor", "not-an-anchor"], target.env);
      expect(bad).toMatchObject({ status: 2, stdout: "" });
      expect(bad.stderr).toContain("is neither a file nor an anchor");
    } finally {
      server.close();
    }
  });
});

// Embedded only, so it runs in the pglite step (see `backends` above).
describe.each(testBackend() === "pglite" ? (["embedded"] as const) : [])("tokendesk CLI while a server holds the %s database", () => {
  let target: Target;
  let held: DatabaseHandle | null = null;
  beforeAll(async () => {
    target = await embeddedTarget();
  });
  afterAll(async () => {
    await held?.close();
    await target.cleanup();
  });

  it("refuses in one line with exit 2 and leaves the data directory alone", async () => {
    held = await target.open();
    await migrateDatabase(held);
    for (const args of [["migrate"], ["audit", "verify"], ["staff", "create", "--email", "x@example.test", "--role", "admin", "--password-stdin"]]) {
      const r = cli(args, target.env, "a long enough password\n");
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `tokendesk: The embedded database in ${target.env.TOKENDESK_DATA_DIR} is in use by another tokendesk process (pid ${process.pid}); ` +
          "stop that process first, or point both at PostgreSQL with DATABASE_URL.\n",
      );
    }
    // The holder still works and nothing was written by the refused commands.
    const [row] = await queryRows<{ n: number }>(held.db, sql`select count(*)::int as n from staff`);
    expect(Number(row!.n)).toBe(0);
  });
});
