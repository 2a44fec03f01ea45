import "server-only";
import { desc, inArray } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { signingKeys } from "@/db/schema";
import type { Actor } from "@/lib/context";
import { assertStaffCan } from "@/lib/staff/authorize";

export interface SigningKeyView {
  kid: string;
  alg: string;
  status: "current" | "previous" | "retired";
  createdAt: Date;
  retireAfter: Date | null;
}

/**
 * The published signing keys, for the settings page. Only public facts are selected: the encrypted
 * private part never leaves the database for this read. (lib/oauth/signing-keys.ts has no listing
 * function; this read is the console's until it does.)
 */
export async function listPublishedSigningKeys(db: Executor, actor: Actor, now: Date = new Date()): Promise<SigningKeyView[]> {
  assertStaffCan(actor, "settings:manage");
  const rows = await db
    .select({ kid: signingKeys.kid, alg: signingKeys.alg, status: signingKeys.status, createdAt: signingKeys.createdAt, retireAfter: signingKeys.retireAfter })
    .from(signingKeys)
    .where(inArray(signingKeys.status, ["current", "previous"]))
    .orderBy(desc(signingKeys.createdAt));
  // A previous key past its retirement is no longer in the JWKS even before the next rotation marks it.
  return rows.map((r) => ({ ...r, status: r.status === "previous" && r.retireAfter && r.retireAfter <= now ? "retired" : r.status }));
}
