/**
 * The demo team seeded into an empty embedded database on first start, so that `npm start` shows a
 * console with something in it. Never runs against DATABASE_URL (production seeds nothing).
 */
import { count } from "drizzle-orm";
import type { Database } from "@/db/client";
import { staff } from "@/db/schema";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createStaff } from "@/lib/staff/staff";
import { seedDevicesDemo } from "./devices";
import { seedIdvDemo } from "./idv";
import { DEMO_STAFF } from "./staff";
import { seedTokensDemo } from "./tokens";

export { DEMO_STAFF };

/** Seeds the demo team when no staff exist yet; returns whether it did. */
export async function seedDemo(db: Database): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(staff);
  if (Number(row?.n ?? 0) > 0) return false;
  const actor = systemActor("demo seed");
  for (const s of DEMO_STAFF) await createStaff(db, actor, s, NO_REQUEST);
  await seedDevicesDemo(db);
  await seedIdvDemo(db);
  await seedTokensDemo(db);
  return true;
}
