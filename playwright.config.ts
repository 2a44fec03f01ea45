/**
 * End-to-end tests of the console in Chromium, against the production build (`next start`) on a
 * fresh embedded database — or, with E2E_POSTGRES_URL, on a fresh database of that PostgreSQL
 * server (e2e/start-tokendesk.mjs) — with a real OpenID Connect provider (e2e/oidc-provider.mjs).
 *
 * A setup project signs each demo role in once through next-auth's API and saves its storageState;
 * the browser project reuses those (the pattern of dub's playwright config). `npm test` builds
 * first; set NEXT_DIST_DIR to test another build directory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3210);
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3211);
// localhost, not 127.0.0.1: WebAuthn refuses an IP address as a relying party id, and the passkey
// spec's relying party is PUBLIC_URL's host.
const baseURL = `http://localhost:${port}`;
const oidcIssuer = `http://127.0.0.1:${oidcPort}`;
// Fixed per port (not random): this file is evaluated again in every worker process.
const dataDir = process.env.E2E_DATA_DIR ?? path.join(os.tmpdir(), `tokendesk-e2e-${port}`);

// Debian's chromium when present (browsers cannot be downloaded everywhere); Playwright's own otherwise.
const systemChromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));

export const E2E = { port, oidcPort, baseURL, oidcIssuer, dataDir };

export default defineConfig({
  testDir: "e2e",
  // Per port: engineers run Playwright from one working tree at once, each on its own ports.
  outputDir: process.env.E2E_OUTPUT_DIR ?? `test-results/e2e-${port}`,
  forbidOnly: true,
  fullyParallel: false,
  workers: process.env.E2E_WORKERS ? Number(process.env.E2E_WORKERS) : 2,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    // A failed test keeps its trace (actions, DOM snapshots, network, console) but no screencast: the
    // screencast's frames were recorded for every test, passing ones included, and cost CPU on a
    // machine the browsers, the server and the runner already fill. The failure screenshot stays.
    trace: { mode: "retain-on-failure", screenshots: false },
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: systemChromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "setup", testMatch: /auth\.setup\.ts$/ },
    { name: "chromium", testMatch: /\.spec\.ts$/, dependencies: ["setup"], use: { browserName: "chromium", viewport: { width: 1280, height: 900 } } },
  ],
  webServer: [
    {
      command: "node e2e/oidc-provider.mjs",
      url: `${oidcIssuer}/.well-known/openid-configuration`,
      env: { E2E_OIDC_PORT: String(oidcPort), E2E_PORT: String(port) },
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // e2e/start-tokendesk.mjs empties the data directory, then runs `next start`.
      command: "node e2e/start-tokendesk.mjs",
      // The server listens on 127.0.0.1; Playwright's readiness probe may try ::1 for localhost.
      url: `http://127.0.0.1:${port}/api/health`,
      env: {
        E2E_DATA_DIR: dataDir,
        E2E_PORT: String(port),
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        NEXT_DIST_DIR: process.env.NEXT_DIST_DIR ?? "",
        TOKENDESK_DATA_DIR: dataDir,
        // The embedded database: no DATABASE_URL (CI exports one for the vitest steps). With
        // E2E_POSTGRES_URL, start-tokendesk.mjs makes a fresh database there and sets both itself.
        DATABASE_URL: "",
        TOKENDESK_SECRET: "",
        E2E_POSTGRES_URL: process.env.E2E_POSTGRES_URL ?? "",
        TRUSTED_PROXY: "",
        PORT: String(port),
        PUBLIC_URL: baseURL,
        // The webhook spec's receiver listens on loopback.
        WEBHOOK_ALLOW_PRIVATE: "1",
        OIDC_ISSUER: oidcIssuer,
        OIDC_CLIENT_ID: "tokendesk-e2e",
        OIDC_CLIENT_SECRET: "tokendesk-e2e-client-secret-0123456789",
        OIDC_ROLE_MAP: "td-admins=admin,td-support=support",
        OIDC_NAME: "Test IdP",
      },
      reuseExistingServer: false,
      // A cold start (migrations, demo seed, Next prepare) on a busy 2-core machine takes minutes.
      timeout: 300_000,
      // On PostgreSQL, SIGTERM (not Playwright's default SIGKILL) so start-tokendesk.mjs drops its database.
      ...(process.env.E2E_POSTGRES_URL ? { gracefulShutdown: { signal: "SIGTERM" as const, timeout: 15_000 } } : {}),
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
