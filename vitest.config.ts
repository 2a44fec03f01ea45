import path from "node:path";
import { defineConfig } from "vitest/config";

// Every test process shares one fixed secret so that hashes and HMACs computed by tests match the
// server's (tests/helpers/server.ts passes the same value to the server it starts).
export const TEST_SECRET = "tokendesk-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

const shared = {
  env: { TOKENDESK_SECRET: TEST_SECRET, TRUSTED_PROXY: "x-forwarded-for" },
};

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], ...shared },
      },
      {
        extends: true,
        // Runs once per database: TEST_DB=pglite (default) or TEST_DB=postgres with TEST_DATABASE_URL.
        // The CLI tests run the esbuild bundle of the CLI the container ships, built once per run;
        // on PGlite each file starts from a migrated snapshot dumped once per run.
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/helpers/cli-global-setup.ts", "tests/helpers/pglite-global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          ...shared,
        },
      },
      {
        extends: true,
        // HTTP tests against a real `next start` on PostgreSQL (needs a build and TEST_DATABASE_URL).
        test: {
          name: "http",
          include: ["tests/http/**/*.test.ts"],
          globalSetup: ["tests/helpers/http-global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          ...shared,
        },
      },
      {
        extends: true,
        // The rolling-upgrade test (tests/upgrade): the previous release built from git (once, then
        // cached) and this release's production build on one PostgreSQL (TEST_DATABASE_URL).
        test: { name: "upgrade", include: ["tests/upgrade/**/*.test.ts"], testTimeout: 1_200_000, hookTimeout: 1_800_000, ...shared },
      },
    ],
  },
});
