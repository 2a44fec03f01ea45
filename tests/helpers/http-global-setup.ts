/**
 * Global setup of the `http` project: one tokendesk server (`next start` of the current build) on a
 * fresh PostgreSQL database, shared by the HTTP test files, which run one after another.
 * Test files reach the same database directly (inject("databaseUrl")) for setup and assertions.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { TEST_SECRET } from "../../vitest.config";
import { createPostgresDatabase } from "./db";
import { freePort, startServer } from "./server";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    databaseUrl: string;
    /** A loopback port the browser tests serve a web app from: its origin is in CORS_ALLOWED_ORIGINS. */
    appPort: number;
    /** Everything the shared server printed (its JSON log lines), appended as it runs. */
    serverLogFile: string;
    metricsToken: string;
  }
}

export default async function setup(project: TestProject) {
  const db = await createPostgresDatabase("td_http");
  const appPort = await freePort();
  const serverLogFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "td-http-log-")), "server.log");
  const metricsToken = `metrics-${randomBytes(12).toString("hex")}`;
  const server = await startServer(
    {
      DATABASE_URL: db.url,
      TOKENDESK_SECRET: TEST_SECRET,
      TRUSTED_PROXY: "x-forwarded-for",
      CORS_ALLOWED_ORIGINS: `http://127.0.0.1:${appPort}`,
      METRICS_TOKEN: metricsToken,
      LOG_LEVEL: "info",
      // The webhook tests' receivers listen on loopback.
      WEBHOOK_ALLOW_PRIVATE: "1",
    },
    { logFile: serverLogFile },
  );
  project.provide("appPort", appPort);
  project.provide("serverLogFile", serverLogFile);
  project.provide("metricsToken", metricsToken);
  project.provide("baseUrl", server.url);
  project.provide("databaseUrl", db.url);
  return async () => {
    await server.stop();
    await db.drop();
  };
}
