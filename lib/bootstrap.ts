/**
 * What a tokendesk server does once when it starts (called by server.ts, and by instrumentation.ts
 * when Next runs on its own): open and
 * migrate the database, seed the demo team on an empty embedded database, start the background
 * sweepers and the webhook dispatcher, and say where it is listening.
 */
import { databaseHandle } from "@/db";
import type { Database } from "@/db/client";
import { config } from "@/lib/config/env";
import { DEMO_STAFF, demoAccountCount, seedDemo } from "@/lib/demo";
import { instrumentDatabase } from "@/lib/metrics";

import { ensureSigningKey } from "@/lib/oauth/signing-keys";
import { startSweepers } from "@/lib/sweepers";
import { startWebhookDispatcher } from "@/lib/webhooks/dispatcher";

/**
 * The background work of an instance: the sweepers (audit sealer, retention, roll-ups…) and the
 * webhook dispatcher — every instance runs them, sharing the work through advisory locks and
 * FOR UPDATE SKIP LOCKED; never on a request's path. `on` false (TOKENDESK_BACKGROUND=0): an
 * instance that only answers requests, while another runs these; null then. Returns what stops them.
 */
export function startBackground(db: Database, on: boolean): { stop: () => Promise<void> } | null {
  if (!on) return null;
  const stopSweepers = startSweepers(db);
  const dispatcher = startWebhookDispatcher(db);
  return {
    stop: async () => {
      stopSweepers();
      await dispatcher.stop();
    },
  };
}

export async function bootstrapServer(): Promise<void> {
  const cfg = config();
  const handle = await databaseHandle();
  instrumentDatabase(handle); // the pool gauges of /metrics
  let seeded = false;
  if (cfg.demo) seeded = await seedDemo(handle.db);

  await ensureSigningKey(handle.db);
  startBackground(handle.db, cfg.background);

  const lines = [
    "",
    `  tokendesk is ready at ${cfg.publicUrl}`,
    `  database: ${cfg.mode === "embedded" ? `embedded PGlite in ${cfg.dataDir}` : "PostgreSQL (DATABASE_URL)"}`,
  ];
  if ((await demoAccountCount(handle.db)) > 0) {
    lines.push(seeded ? "  seeded a demo team. Demo sign-ins:" : "  demo sign-ins (unless changed since):");
    for (const s of DEMO_STAFF) lines.push(`    ${s.role.padEnd(8)} ${s.email}  /  ${s.password}`);
    lines.push("  remove the demo team before real use: console banner or `npx tokendesk staff remove-demo`");
  }
  console.log(`${lines.join("\n")}\n`);
}

const globalForStart = globalThis as unknown as { __tokendeskStarted?: Promise<void> };

/**
 * bootstrapServer once per process, stopping the process with one sentence if configuration or
 * database fail. server.ts calls it before listening and Next's instrumentation hook calls it again
 * from Next's own copy of this module: the promise on globalThis makes the second call a no-op.
 */
export function startServer(): Promise<void> {
  globalForStart.__tokendeskStarted ??= bootstrapServer().catch((err) => {
    console.error(`\ntokendesk cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
  return globalForStart.__tokendeskStarted;
}
