/**
 * The demo team seeded into an empty embedded database on first start, so that `npm start` shows a
 * console with something in it. Never runs against DATABASE_URL (production seeds nothing).
 */
import { count } from "drizzle-orm";
import type { Database } from "./client";
import { staff } from "./schema";
import { systemActor, NO_REQUEST } from "@/lib/context";
import type { StaffRole } from "@/lib/staff/rbac";
import { createStaff } from "@/lib/staff/staff";

export const DEMO_STAFF: Array<{ email: string; name: string; role: StaffRole; password: string }> = [
  { email: "admin@demo.tokendesk.dev", name: "Ada Admin", role: "admin", password: "demo-admin-password" },
  { email: "support@demo.tokendesk.dev", name: "Sam Support", role: "support", password: "demo-support-password" },
  { email: "qa@demo.tokendesk.dev", name: "Quinn QA", role: "qa", password: "demo-qa-password" },
  { email: "auditor@demo.tokendesk.dev", name: "Avery Auditor", role: "auditor", password: "demo-auditor-password" },
];

/** Seeds the demo team when no staff exist yet; returns whether it did. */
export async function seedDemo(db: Database): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(staff);
  if (Number(row?.n ?? 0) > 0) return false;
  const actor = systemActor("demo seed");
  for (const s of DEMO_STAFF) await createStaff(db, actor, s, NO_REQUEST);
  return true;
}
