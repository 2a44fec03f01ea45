/**
 * Retention per environment: how many days the janitor keeps what is no longer needed. Rows are
 * created on first change; a missing row means the defaults. Changes are audited as
 * `settings.changed` (target `retention`), like the token lifetimes.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { type RetentionSettings, retentionSettings } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import type { Environment } from "@/lib/environments";
import { parseInput } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";

export type Retention = Pick<RetentionSettings, "environment" | "signInTokensDays" | "endedSessionsDays" | "idvCapturedDays" | "deviceRefreshTokensDays">;

export const DEFAULT_RETENTION = {
  signInTokensDays: 7,
  endedSessionsDays: 30,
  idvCapturedDays: 30,
  deviceRefreshTokensDays: 30,
} as const;

const days = (max: number) =>
  z.coerce.number("must be a number of days").int("must be a whole number of days").min(1, "must be at least 1 day").max(max, `must be at most ${max} days`);

export const retentionInput = z.object({
  signInTokensDays: days(365).meta({ title: "Used and expired sign-in tokens' retention" }),
  endedSessionsDays: days(3650).meta({ title: "Ended sessions' retention" }),
  idvCapturedDays: days(3650).meta({ title: "Captured identity photos' retention" }),
  deviceRefreshTokensDays: days(3650).meta({ title: "Device refresh tokens' retention" }),
});
export type RetentionInput = z.input<typeof retentionInput>;

export async function getRetention(db: Executor, environment: Environment): Promise<Retention> {
  const [row] = await db.select().from(retentionSettings).where(eq(retentionSettings.environment, environment));
  return row
    ? {
        environment,
        signInTokensDays: row.signInTokensDays,
        endedSessionsDays: row.endedSessionsDays,
        idvCapturedDays: row.idvCapturedDays,
        deviceRefreshTokensDays: row.deviceRefreshTokensDays,
      }
    : { environment, ...DEFAULT_RETENTION };
}

/** Changes some or all of an environment's retention; fields left out keep their value. */
export async function updateRetention(
  db: Database,
  actor: Actor,
  environment: Environment,
  input: Partial<RetentionInput>,
  meta: RequestMeta,
): Promise<Retention> {
  assertStaffCan(actor, "settings:manage");
  return db.transaction(async (tx) => {
    const before = await getRetention(tx, environment);
    const next = parseInput(retentionInput, { ...before, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) });
    await tx
      .insert(retentionSettings)
      .values({ environment, ...next, updatedAt: new Date(), updatedBy: actor.id })
      .onConflictDoUpdate({ target: retentionSettings.environment, set: { ...next, updatedAt: new Date(), updatedBy: actor.id } });
    const changes: Record<string, { from: number; to: number }> = {};
    for (const k of Object.keys(next) as Array<keyof typeof next>) {
      if (before[k] !== next[k]) changes[k] = { from: before[k], to: next[k] };
    }
    if (Object.keys(changes).length) {
      await recordAudit(tx, { actor, action: "settings.changed", target: { type: "retention", id: environment }, environment, details: { changes } }, meta);
    }
    return { environment, ...next };
  });
}
