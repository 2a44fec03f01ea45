/**
 * What a tokendesk server does once when it starts (called from instrumentation.ts): open and
 * migrate the database, seed the demo team on an empty embedded database, start the background
 * sweepers, and say where it is listening.
 */
import { databaseHandle } from "@/db";
import { config } from "@/lib/config/env";
import { DEMO_STAFF, seedDemo } from "@/lib/demo";
import { ensureSigningKey } from "@/lib/oauth/signing-keys";
import { startSweepers } from "@/lib/sweepers";

export async function bootstrapServer(): Promise<void> {
  const cfg = config();
  const handle = await databaseHandle();
  let seeded = false;
  if (cfg.mode === "embedded") seeded = await seedDemo(handle.db);

  await ensureSigningKey(handle.db);
  startSweepers(handle.db);

  const lines = [
    "",
    `  tokendesk is ready at ${cfg.publicUrl}`,
    `  database: ${cfg.mode === "embedded" ? `embedded PGlite in ${cfg.dataDir}` : "PostgreSQL (DATABASE_URL)"}`,
  ];
  if (cfg.mode === "embedded") {
    lines.push(seeded ? "  seeded a demo team. Demo sign-ins:" : "  demo sign-ins (unless changed since):");
    for (const s of DEMO_STAFF) lines.push(`    ${s.role.padEnd(8)} ${s.email}  /  ${s.password}`);
  }
  console.log(`${lines.join("\n")}\n`);
}

/** bootstrapServer, stopping the process with one sentence if configuration or database fail. */
export async function startServer(): Promise<void> {
  try {
    await bootstrapServer();
  } catch (err) {
    console.error(`\ntokendesk cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
