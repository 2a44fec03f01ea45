import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes the next migration from db/schema.ts; migrations are applied by
// `tokendesk migrate` and at start (db/client.ts), never by drizzle-kit push.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
