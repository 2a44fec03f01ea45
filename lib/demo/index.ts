/**
 * The demo team, seeded into an empty embedded database on first start so that `npm start` shows a
 * console with something in it. Never seeded with DATABASE_URL (production seeds nothing) nor with
 * TOKENDESK_DEMO=0. Its staff accounts have passwords printed at start and written in the README,
 * so anyone who reads them can sign in: they are marked `demo`, admins are warned while any exists,
 * and `removeDemoTeam` deletes them (console banner, `tokendesk staff remove-demo`).
 */
import { and, count, eq, inArray, isNull } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { staff } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import { type Actor, NO_REQUEST, type RequestMeta, systemActor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";
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
  await db
    .update(staff)
    .set({ demo: true })
    .where(
      inArray(
        staff.email,
        DEMO_STAFF.map((s) => s.email),
      ),
    );
  await seedDevicesDemo(db);
  await seedIdvDemo(db);
  await seedTokensDemo(db);
  return true;
}

/** How many demo accounts exist (0 once removed). */
export async function demoAccountCount(db: Executor): Promise<number> {
  const [row] = await db.select({ n: count() }).from(staff).where(eq(staff.demo, true));
  return Number(row?.n ?? 0);
}

/**
 * Deletes every demo account. Refused while no admin of the deployment's own remains active (the
 * deployment would have nobody left to run it), and to a demo account itself.
 */
export async function removeDemoTeam(db: Database, actor: Actor, meta: RequestMeta): Promise<{ removed: string[] }> {
  assertStaffCan(actor, "staff:manage");
  return db.transaction(async (tx) => {
    if (actor.type === "staff") {
      const [self] = await tx.select({ demo: staff.demo }).from(staff).where(eq(staff.id, actor.id));
      if (self?.demo) throw new DomainError("demo_self", "You are signed in with a demo account: sign in with your own admin account to remove the demo team.");
    }
    const [own] = await tx
      .select({ n: count() })
      .from(staff)
      .where(and(eq(staff.role, "admin"), eq(staff.demo, false), isNull(staff.disabledAt)));
    if (Number(own?.n ?? 0) === 0) {
      throw new DomainError(
        "no_own_admin",
        "Create an admin account of your own first (Staff page, or `tokendesk staff create --role admin`): removing the demo team would leave no admin.",
      );
    }
    const removed = await tx.delete(staff).where(eq(staff.demo, true)).returning({ id: staff.id, email: staff.email });
    if (removed.length) {
      await recordAudit(tx, { actor, action: "staff.demo_removed", target: null, details: { emails: removed.map((r) => r.email) } }, meta);
    }
    return { removed: removed.map((r) => r.email) };
  });
}
