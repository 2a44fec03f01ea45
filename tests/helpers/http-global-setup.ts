/**
 * Global setup of the `http` project: one tokendesk server (`next start` of the current build) on a
 * fresh PostgreSQL database, shared by the HTTP test files, which run one after another.
 * Test files reach the same database directly (inject("databaseUrl")) for setup and assertions.
 */
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
  }
}

export default async function setup(project: TestProject) {
  const db = await createPostgresDatabase("td_http");
  const appPort = await freePort();
  const server = await startServer({
    DATABASE_URL: db.url,
    TOKENDESK_SECRET: TEST_SECRET,
    TRUSTED_PROXY: "x-forwarded-for",
    CORS_ALLOWED_ORIGINS: `http://127.0.0.1:${appPort}`,
  });
  project.provide("appPort", appPort);
  project.provide("baseUrl", server.url);
  project.provide("databaseUrl", db.url);
  return async () => {
    await server.stop();
    await db.drop();
  };
}
