/**
 * @tokendesk/sdk as an integrator gets it: `npm pack` of packages/sdk, installed from the tarball into
 * an empty project, then used from Node (ESM and CommonJS, both entry points), type-checked through
 * its exports map, bundled for a browser and run in Chromium from another origin (CORS), and — two
 * app processes on one state file, two tabs of one origin, 50 concurrent calls each across
 * access-token expiries — never presenting a refresh token another instance already rotated.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { type Browser, type BrowserContext, chromium, type Page } from "@playwright/test";
import { sql } from "drizzle-orm";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { queryRows } from "@/db/client";
import { baseUrl, createUserOver, issueOver, mintKey, openTestDb } from "../helpers/machine-api";
import { ROOT } from "../helpers/server";

let db: DatabaseHandle;
let key: string;
let work: string;
let project: string;
let browser: Browser;
let appServer: http.Server;
/** Allowed by the server's CORS_ALLOWED_ORIGINS (tests/helpers/http-global-setup.ts). */
const appOrigin = () => `http://127.0.0.1:${inject("appPort")}`;
/** The same app server under another name: an origin the list does not have. */
const strangerOrigin = () => `http://localhost:${inject("appPort")}`;

/** Runs a command without blocking this process's event loop (a blocked loop leaves fetch a dead keep-alive socket). */
function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, encoding: "utf8", maxBuffer: 16 << 20, env: { ...process.env, npm_config_update_notifier: "false" } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    );
  });
}

async function node(file: string, args: string[]): Promise<unknown> {
  return JSON.parse((await run(process.execPath, [file, ...args], project)).trim().split("\n").at(-1)!);
}

beforeAll(async () => {
  db = await openTestDb();
  key = (await mintKey(db)).key;
  work = fs.mkdtempSync(path.join(os.tmpdir(), "tokendesk-sdk-pack-"));
  // What an integrator does: pack, then install the tarball into a project that has nothing else.
  const [packed] = JSON.parse(await run("npm", ["pack", "--json", "--pack-destination", work], path.join(ROOT, "packages", "sdk"))) as { filename: string }[];
  project = path.join(work, "app");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "sdk-consumer", private: true, type: "module" }));
  await run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", path.join(work, packed!.filename)], project);
  for (const f of ["race-process.mjs", "consumer.ts", "browser-app.js"])
    fs.copyFileSync(path.join(ROOT, "tests", "http", "sdk-package", f), path.join(project, f));

  // The web app: the installed package bundled for browsers, served on the allowed origin's port.
  const bundle = await build({
    entryPoints: [path.join(project, "browser-app.js")],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  const js = bundle.outputFiles[0]!.text;
  appServer = http.createServer((req, res) => {
    if (req.url === "/app.js") res.writeHead(200, { "Content-Type": "text/javascript" }).end(js);
    else res.writeHead(200, { "Content-Type": "text/html" }).end('<!doctype html><title>app</title><script type="module" src="/app.js"></script>');
  });
  await new Promise<void>((resolve) => appServer.listen(inject("appPort"), "127.0.0.1", resolve));
  const systemChromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
  browser = await chromium.launch({ executablePath: systemChromium, args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (appServer ? appServer.close(r) : r(null)));
  await db?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/**
 * What the races must leave: the user's one SDK session, live, and exactly one rotation per expiry —
 * no instance ever presented a refresh token another had already rotated. The server would forgive
 * one such replay inside its grace window (lib/oauth/refresh.ts: it issues another successor and
 * marks the earlier one `replaced_at`) and the users would never notice, so the rows are what shows
 * it: a replay leaves a replaced token and one token more than the expiries account for.
 */
async function expectOneCleanSession(userId: string, expiries: number): Promise<void> {
  const sessions = await queryRows<{ id: string; revoked_at: Date | null }>(
    db.db,
    sql`select id, revoked_at from sdk_sessions where user_id = ${userId}::uuid`,
  );
  expect(sessions).toHaveLength(1);
  expect(sessions[0]!.revoked_at).toBeNull();
  const [tokens] = await queryRows<{ n: number; rotated: number; replaced: number; live: number }>(
    db.db,
    sql`select count(*)::int as n, count(*) filter (where rotated_at is not null)::int as rotated,
               count(*) filter (where replaced_at is not null)::int as replaced,
               count(*) filter (where rotated_at is null and replaced_at is null)::int as live
          from refresh_tokens where session_id = ${sessions[0]!.id}::uuid`,
  );
  // The first token (from the sign-in) and one per expiry, each rotated exactly once, none replaced.
  expect(tokens).toEqual({ n: expiries + 1, rotated: expiries, replaced: 0, live: 1 });
  const [reuse] = await queryRows<{ n: number }>(
    db.db,
    sql`select count(*)::int as n from audit_events where action = 'refresh_token.reuse_detected' and target_id = ${sessions[0]!.id}`,
  );
  expect(reuse!.n).toBe(0);
}

/** `SDK_RACE_REPEATS=9` runs each race ten times in one go (how the two races were checked for flakiness). */
const race = { repeats: Number(process.env.SDK_RACE_REPEATS ?? 0) };

async function newSignInToken(): Promise<{ userId: string; token: string }> {
  const { user_id } = await createUserOver(key);
  return { userId: user_id, token: await issueOver(key, user_id) };
}

describe("the packed SDK in an empty project", () => {
  it("ships only the build, the README and the changelog, and no source maps or tests", async () => {
    const files = await run("npm", ["ls", "--json"], project);
    expect(JSON.parse(files).dependencies["@tokendesk/sdk"].version).toMatch(/^\d+\.\d+\.\d+$/);
    const shipped = fs
      .readdirSync(path.join(project, "node_modules", "@tokendesk", "sdk"), { recursive: true })
      .map(String)
      .sort();
    expect(shipped).toEqual(
      expect.arrayContaining([
        "CHANGELOG.md",
        "README.md",
        "dist/index.cjs",
        "dist/index.d.cts",
        "dist/index.d.ts",
        "dist/index.js",
        "dist/node.cjs",
        "dist/node.js",
        "package.json",
      ]),
    );
    expect(shipped.filter((f) => f.startsWith("src") || f.endsWith(".map"))).toEqual([]);
  });

  it("works from Node as ESM: signs in, calls the API as the user, signs out", async () => {
    const { userId, token } = await newSignInToken();
    const script = path.join(project, "esm.mjs");
    fs.writeFileSync(
      script,
      `import { createTokendeskClient, memoryStorage } from "@tokendesk/sdk";
       const [baseUrl, token] = process.argv.slice(2);
       const sdk = createTokendeskClient({ baseUrl, storage: memoryStorage() });
       const { userId } = await sdk.signIn(token);
       const res = await sdk.fetch("/v2/user/" + userId);
       const body = await res.json();
       const before = [...(await sdk.status())].sort();
       await sdk.signOut();
       console.log(JSON.stringify({ userId, status: res.status, body, before, after: [...(await sdk.status())] }));`,
    );
    const out = (await node(script, [baseUrl(), token])) as Record<string, any>;
    expect(out).toMatchObject({ userId, status: 200, body: { user_id: userId }, before: ["configured", "signedIn", "useSignInToken"], after: [] });
    const [session] = await queryRows<{ revoked_at: Date | null }>(db.db, sql`select revoked_at from sdk_sessions where user_id = ${userId}::uuid`);
    expect(session!.revoked_at).not.toBeNull();
  });

  it("works from Node as CommonJS, with fileStorage from @tokendesk/sdk/node keeping the session across runs", async () => {
    const { userId, token } = await newSignInToken();
    const script = path.join(project, "cjs.cjs");
    const state = path.join(work, "cjs-state.json");
    fs.writeFileSync(
      script,
      `const { createTokendeskClient } = require("@tokendesk/sdk");
       const { fileStorage } = require("@tokendesk/sdk/node");
       const [baseUrl, state, token] = process.argv.slice(2);
       (async () => {
         const sdk = createTokendeskClient({ baseUrl, storage: fileStorage(state) });
         if (token) await sdk.signIn(token);
         const userId = await sdk.currentUserId();
         const res = await sdk.fetch("/v2/user/" + userId);
         console.log(JSON.stringify({ userId, status: res.status }));
       })();`,
    );
    expect(await node(script, [baseUrl(), state, token])).toEqual({ userId, status: 200 });
    expect(await node(script, [baseUrl(), state])).toEqual({ userId, status: 200 }); // a second launch, no sign-in
    expect(fs.statSync(state).mode & 0o777).toBe(0o600);
  });

  it("type-checks a TypeScript consumer against the shipped declarations (both entry points)", async () => {
    fs.writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", lib: ["ES2022", "DOM"], module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, types: [] },
        files: ["consumer.ts"],
      }),
    );
    await run(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", project], project);
  });
});

describe("two processes on one state file", () => {
  it("50 concurrent calls each across three access-token expiries: one family, no sign-out, no reuse", race, async () => {
    const { userId, token } = await newSignInToken();
    const state = path.join(work, `race-state-${userId}.json`);
    const script = path.join(project, "race-process.mjs");
    expect(await node(script, ["signin", baseUrl(), state, token])).toEqual({ userId });

    const procs = [0, 1].map(() => spawn(process.execPath, [script, "serve", baseUrl(), state], { cwd: project }));
    const readers = procs.map((p) => readline.createInterface({ input: p.stdout })[Symbol.asyncIterator]());
    const errors = procs.map((p) => {
      let err = "";
      p.stderr.on("data", (d) => (err += d));
      return () => err;
    });
    const next = async (i: number) => {
      const line = await readers[i]!.next();
      if (line.done) throw new Error(`process ${i} ended: ${errors[i]!()}`);
      return JSON.parse(line.value) as { ready?: boolean; statuses?: (number | string)[]; status?: string[] };
    };
    try {
      expect(await Promise.all([next(0), next(1)])).toEqual([{ ready: true }, { ready: true }]);
      for (let round = 1; round <= 3; round++) {
        const skew = round * 2 * 3600 * 1000; // both clocks past the access token's expiry (1 h)
        for (const p of procs) (p as ChildProcessWithoutNullStreams).stdin.write(`go ${skew}\n`);
        const answers = await Promise.all([next(0), next(1)]);
        for (const a of answers) {
          expect(a.statuses).toEqual(Array(50).fill(200));
          expect(a.status).toEqual(["configured", "signedIn", "useSignInToken"]);
        }
      }
    } finally {
      for (const p of procs) p.stdin.end();
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once("exit", r)))));
    }

    await expectOneCleanSession(userId, 3);
  });
});

/** A tab of the web app at `origin`, with the SDK started against tokendesk. */
async function openApp(context: BrowserContext, origin = appOrigin()): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (window as any).app);
  await page.evaluate((base) => (window as any).app.start(base), baseUrl());
  return page;
}

describe("the packed SDK in a browser on another origin (CORS)", () => {
  it("signs in with a sign-in token, calls GET /v2/user/{id}, refreshes and signs out; API-key calls stay refused", async () => {
    const { userId, token } = await newSignInToken();
    const context = await browser.newContext();
    try {
      const page = await openApp(context);
      expect(await page.evaluate((t) => (window as any).app.run((c: any) => c.signIn(t)), token)).toEqual({ ok: { userId } });
      const me = () => (window as any).app.run(async (c: any) => (await c.fetch(`/v2/user/${await c.currentUserId()}`)).json());
      expect(await page.evaluate(me)).toMatchObject({ ok: { user_id: userId } });

      await page.evaluate(() => {
        (window as any).skew = 2 * 3600 * 1000; // past the access token's expiry: the next call refreshes
      });
      expect(await page.evaluate(me)).toMatchObject({ ok: { user_id: userId } });
      const [tokens] = await queryRows<{ n: number }>(
        db.db,
        sql`select count(*)::int as n from refresh_tokens r join sdk_sessions s on s.id = r.session_id where s.user_id = ${userId}::uuid`,
      );
      expect(tokens!.n).toBe(2);

      // The discovery documents are readable from the page too.
      expect(await page.evaluate(async (base) => (await (await fetch(`${base}/.well-known/jwks.json`)).json()).keys.length > 0, baseUrl())).toBe(true);
      // An API key never works from a browser: the preflight for X-Vital-API-Key is refused.
      const withKey = await page.evaluate(
        async ([base, id, k]) =>
          fetch(`${base}/v2/user/${id}`, { headers: { "X-Vital-API-Key": k! } }).then(
            (r) => r.status,
            (e) => `refused: ${e.name}`,
          ),
        [baseUrl(), userId, key],
      );
      expect(withKey).toBe("refused: TypeError");

      expect(await page.evaluate(() => (window as any).app.run((c: any) => c.signOut()))).toEqual({});
      const [session] = await queryRows<{ revoked_at: Date | null }>(db.db, sql`select revoked_at from sdk_sessions where user_id = ${userId}::uuid`);
      expect(session!.revoked_at).not.toBeNull();
    } finally {
      await context.close();
    }
  });

  it("an origin not in CORS_ALLOWED_ORIGINS is refused by the browser, and its sign-in never reaches the exchange", async () => {
    const { userId, token } = await newSignInToken();
    const context = await browser.newContext();
    try {
      const page = await openApp(context, strangerOrigin());
      expect(await page.evaluate((t) => (window as any).app.run((c: any) => c.signIn(t)), token)).toEqual({ error: "network" });
      const jwks = await page.evaluate(
        (base) =>
          fetch(`${base}/.well-known/jwks.json`).then(
            (r) => r.status,
            (e) => `refused: ${e.name}`,
          ),
        baseUrl(),
      );
      expect(jwks).toBe("refused: TypeError");
    } finally {
      await context.close();
    }
    const [unused] = await queryRows<{ used_at: Date | null }>(db.db, sql`select used_at from sign_in_tokens where user_id = ${userId}::uuid`);
    expect(unused!.used_at).toBeNull();
    // The same token still signs in from an allowed origin.
    const ok = await browser.newContext();
    try {
      const page = await openApp(ok);
      expect(await page.evaluate((t) => (window as any).app.run((c: any) => c.signIn(t)), token)).toEqual({ ok: { userId } });
    } finally {
      await ok.close();
    }
  });
});

describe("two tabs of one origin (the app's localStorageAdapter(): IndexedDB since 0.3)", () => {
  it("50 concurrent calls each across three access-token expiries: one family, no sign-out, no reuse", race, async () => {
    const { userId, token } = await newSignInToken();
    const context = await browser.newContext();
    try {
      const tabs = [await openApp(context), await openApp(context)];
      expect(await tabs[0]!.evaluate((t) => (window as any).app.run((c: any) => c.signIn(t)), token)).toEqual({ ok: { userId } });
      const burst = (page: Page, skew: number) =>
        page.evaluate(
          async ([s, id]) => {
            (window as any).skew = s;
            const app = (window as any).app;
            return Promise.all(Array.from({ length: 50 }, () => app.run(async (c: any) => (await c.fetch(`/v2/user/${id}`)).status)));
          },
          [skew, userId] as const,
        );
      for (let round = 1; round <= 3; round++) {
        const skew = round * 2 * 3600 * 1000;
        const answers = await Promise.all(tabs.map((tab) => burst(tab, skew)));
        for (const a of answers) expect(a).toEqual(Array(50).fill({ ok: 200 }));
      }
      for (const tab of tabs) {
        expect(await tab.evaluate(() => (window as any).app.run(async (c: any) => [...(await c.status())].sort()))).toEqual({
          ok: ["configured", "signedIn", "useSignInToken"],
        });
      }
    } finally {
      await context.close();
    }
    await expectOneCleanSession(userId, 3);
  });
});
