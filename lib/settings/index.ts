/**
 * Per-environment token lifetimes. Rows are created with the defaults on first read, so a fresh
 * deployment needs no setup; admins change them in the console, and every change is audited.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { environmentSettings } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import type { Environment } from "@/lib/environments";
import { parseInput } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";
import { SETTING_LABELS, type SettingField } from "./labels";
import { DEFAULT_SETTINGS, type Settings } from "./row";

export { SETTING_LABELS, type SettingField } from "./labels";
export { DEFAULT_SETTINGS, type Settings } from "./row";

const seconds = (field: SettingField) =>
  z.coerce.number("must be a whole number of seconds").int("must be a whole number of seconds").meta({ title: SETTING_LABELS[field] });

export const settingsInput = z.object({
  signInTokenTtlSeconds: seconds("signInTokenTtlSeconds").min(60, "must be at least 60 seconds").max(86_400, "must be at most 86400 seconds (a day)"),
  accessTokenTtlSeconds: seconds("accessTokenTtlSeconds").min(60, "must be at least 60 seconds").max(86_400, "must be at most 86400 seconds (a day)"),
  refreshAbsoluteTtlSeconds: seconds("refreshAbsoluteTtlSeconds")
    .min(3600, "must be at least 3600 seconds (an hour)")
    .max(5 * 365 * 86_400, "must be at most five years"),
  refreshGraceSeconds: seconds("refreshGraceSeconds").min(0, "must be 0 or more").max(300, "must be at most 300 seconds"),
});
export type SettingsInput = z.input<typeof settingsInput>;

export async function getSettings(db: Executor, environment: Environment): Promise<Settings> {
  const [row] = await db.select().from(environmentSettings).where(eq(environmentSettings.environment, environment));
  return row ?? { environment, ...DEFAULT_SETTINGS };
}

export async function updateSettings(db: Database, actor: Actor, environment: Environment, input: SettingsInput, meta: RequestMeta): Promise<Settings> {
  assertStaffCan(actor, "settings:manage", environment);
  const next = parseInput(settingsInput, input);
  return db.transaction(async (tx) => {
    const before = await getSettings(tx, environment);
    const [row] = await tx
      .insert(environmentSettings)
      .values({ environment, ...next, updatedAt: new Date(), updatedBy: actor.id })
      .onConflictDoUpdate({ target: environmentSettings.environment, set: { ...next, updatedAt: new Date(), updatedBy: actor.id } })
      .returning();
    const changes: Record<string, { from: number; to: number }> = {};
    for (const k of Object.keys(next) as Array<keyof typeof next>) {
      if (before[k] !== next[k]) changes[k] = { from: before[k], to: next[k] };
    }
    if (Object.keys(changes).length) {
      await recordAudit(tx, { actor, action: "settings.changed", target: { type: "environment", id: environment }, environment, details: { changes } }, meta);
    }
    return row!;
  });
}
