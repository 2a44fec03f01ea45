/**
 * For the console suite on PostgreSQL (e2e/start-tokendesk.mjs with E2E_POSTGRES_URL): migrates the
 * fresh database in DATABASE_URL and seeds the same demo team `npm start` seeds into an empty
 * embedded database — a server on DATABASE_URL seeds nothing by itself, as in production.
 */
import { migrateDatabase, openDatabase } from "@/db/client";
import { seedDemo } from "@/lib/demo";

const handle = await openDatabase({ databaseUrl: process.env.DATABASE_URL!, maxConnections: 2 });
try {
  await migrateDatabase(handle);
  if (!(await seedDemo(handle.db))) throw new Error("seed-postgres: the database was not empty");
} finally {
  await handle.close();
}
