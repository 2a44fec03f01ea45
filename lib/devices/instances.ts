/**
 * Telematics instances: the InstanceId + InstanceKey pair an integrator's app registers devices
 * with. Created by admins (console or CLI); the key is shown once and only its hash is stored.
 */
import { timingSafeEqual } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { type Instance, instances } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { ENVIRONMENTS } from "@/lib/environments";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { assertStaffCan } from "@/lib/staff/authorize";
import { requireReason } from "@/lib/staff/reason";
import { newDeviceSecret } from "./secrets";

export const DEFAULT_JWT_TTL_SECONDS = 86_400;
export const DEFAULT_REFRESH_TTL_SECONDS = 90 * 86_400;
export const DEFAULT_REFRESH_GRACE_SECONDS = 10;

export const createInstanceInput = z.object({
  name: z.string().trim().min(1, "is required").max(120, "must be at most 120 characters").meta({ title: "Name" }),
  environment: z.enum(ENVIRONMENTS, "must be sandbox or production").meta({ title: "Environment" }),
  jwtTtlSeconds: z.coerce
    .number("must be a number of seconds")
    .int("must be a whole number of seconds")
    .min(60, "must be at least 60 seconds")
    .max(30 * 86_400, "must be at most 30 days")
    .default(DEFAULT_JWT_TTL_SECONDS)
    .meta({ title: "JWT lifetime" }),
  refreshTtlSeconds: z.coerce
    .number("must be a number of seconds")
    .int("must be a whole number of seconds")
    .min(3600, "must be at least an hour")
    .max(5 * 365 * 86_400, "must be at most five years")
    .default(DEFAULT_REFRESH_TTL_SECONDS)
    .meta({ title: "Refresh token lifetime" }),
  /** As the OAuth setting: a used refresh token is accepted this long as a retry that replaces its successor. */
  refreshGraceSeconds: z.coerce
    .number("must be a number of seconds")
    .int("must be a whole number of seconds")
    .min(0, "must be 0 or more seconds")
    .max(300, "must be at most 300 seconds")
    .default(DEFAULT_REFRESH_GRACE_SECONDS)
    .meta({ title: "Refresh grace" }),
});
export type CreateInstanceInput = z.input<typeof createInstanceInput>;

/** What callers may see of an instance: never the key hash. */
export interface InstanceView {
  id: string;
  name: string;
  environment: "sandbox" | "production";
  jwtTtlSeconds: number;
  refreshTtlSeconds: number;
  refreshGraceSeconds: number;
  createdBy: string | null;
  createdAt: Date;
}

export function toInstanceView(i: Instance): InstanceView {
  return {
    id: i.id,
    name: i.name,
    environment: i.environment,
    jwtTtlSeconds: i.jwtTtlSeconds,
    refreshTtlSeconds: i.refreshTtlSeconds,
    refreshGraceSeconds: i.refreshGraceSeconds,
    createdBy: i.createdBy,
    createdAt: i.createdAt,
  };
}

export async function createInstance(
  db: Database,
  actor: Actor,
  input: CreateInstanceInput,
  meta: RequestMeta,
): Promise<{ instance: InstanceView; instanceKey: string }> {
  assertStaffCan(actor, "instances:manage");
  const data = parseInput(createInstanceInput, input);
  assertStaffCan(actor, "instances:manage", data.environment);
  const instanceKey = newDeviceSecret("instance_key");
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(instances)
      .values({
        id: newId(),
        name: data.name,
        environment: data.environment,
        keyHash: hashSecret(instanceKey),
        jwtTtlSeconds: data.jwtTtlSeconds,
        refreshTtlSeconds: data.refreshTtlSeconds,
        refreshGraceSeconds: data.refreshGraceSeconds,
        createdBy: actor.name ?? actor.id,
      })
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: "instance.created",
        target: { type: "instance", id: row!.id },
        environment: row!.environment,
        details: {
          name: row!.name,
          jwtTtlSeconds: row!.jwtTtlSeconds,
          refreshTtlSeconds: row!.refreshTtlSeconds,
          refreshGraceSeconds: row!.refreshGraceSeconds,
        },
      },
      meta,
    );
    return { instance: toInstanceView(row!), instanceKey };
  });
}

export async function listInstances(db: Executor, actor: Actor): Promise<InstanceView[]> {
  assertStaffCan(actor, "instances:manage");
  const rows = await db.select().from(instances).orderBy(desc(instances.createdAt), desc(instances.id)).limit(500);
  return rows.map(toInstanceView);
}

/**
 * A new InstanceKey for an instance (shown once, only its hash stored); the old key stops working at
 * once for new registrations and logins. Devices already registered keep their DeviceTokens,
 * JWTs and refresh tokens: the InstanceKey is only asked for at registration and login.
 */
export async function rotateInstanceKey(
  db: Database,
  actor: Actor,
  instanceId: string,
  opts: { reason?: string | null },
  meta: RequestMeta,
): Promise<{ instance: InstanceView; instanceKey: string }> {
  assertStaffCan(actor, "instances:manage");
  if (!isUuid(instanceId)) throw new DomainError("not_found", "No such instance.");
  const instanceKey = newDeviceSecret("instance_key");
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(instances)
      .set({ keyHash: hashSecret(instanceKey) })
      .where(eq(instances.id, instanceId))
      .returning();
    if (!row) throw new DomainError("not_found", "No such instance.");
    await recordAudit(
      tx,
      {
        actor,
        action: "instance.key_rotated",
        target: { type: "instance", id: row.id },
        environment: row.environment,
        reason: requireReason(opts.reason, "rotating the instance key", { optional: true }),
        details: { name: row.name },
      },
      meta,
    );
    return { instance: toInstanceView(row), instanceKey };
  });
}

/** The instance named by `instanceId`, or null for anything that is not one (never throws). */
export async function findInstance(db: Executor, instanceId: string | null | undefined): Promise<Instance | null> {
  if (!instanceId || !isUuid(instanceId.trim())) return null;
  const [row] = await db.select().from(instances).where(eq(instances.id, instanceId.trim()));
  return row ?? null;
}

/** Constant-time comparison of a presented InstanceKey with the stored hash. */
export function instanceKeyMatches(instance: Instance, presented: string | null | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(hashSecret(presented.trim()));
  const b = Buffer.from(instance.keyHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
