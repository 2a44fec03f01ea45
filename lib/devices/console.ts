/**
 * The DeviceToken inspector's domain: search devices, read one device with its instance, its
 * history (from the audit log) and its most recently issued JWT, and the support actions —
 * disable/enable the device and revoke its refresh tokens — each with a reason, audited.
 *
 * Search patterns are inlined as escaped SQL literals (not bound parameters) for the same reason
 * as lib/users/search.ts: a generic prepared plan for `like $1` cannot use the prefix indexes.
 */
import { and, desc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { auditEvents, type Device, deviceRefreshTokens, devices, type Instance, instances } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import { config } from "@/lib/config/env";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { ENVIRONMENTS, type Environment } from "@/lib/environments";
import { DomainError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { DEVICE_AUDIENCE } from "@/lib/oauth/jwt";
import { SIGNING_ALG } from "@/lib/oauth/signing-keys";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";
import { requireReason } from "@/lib/staff/reason";
import { type InstanceView, toInstanceView } from "./instances";
import { looksLike } from "./secrets";

export const DEVICE_PAGE_SIZE = 50;

/** What the console shows of a device: never the token hash or the custom token. */
export interface DeviceView {
  id: string;
  instanceId: string;
  instanceName: string;
  environment: Environment;
  deviceTokenPrefix: string;
  clientId: string | null;
  firstName: string | null;
  lastName: string | null;
  nickname: string | null;
  phone: string | null;
  email: string | null;
  hasCustomToken: boolean;
  disabled: boolean;
  disabledAt: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
}

function toDeviceView(d: Device, i: Pick<Instance, "name" | "environment">): DeviceView {
  return {
    id: d.id,
    instanceId: d.instanceId,
    instanceName: i.name,
    environment: i.environment,
    deviceTokenPrefix: d.deviceTokenPrefix,
    clientId: d.clientId,
    firstName: d.firstName,
    lastName: d.lastName,
    nickname: d.nickname,
    phone: d.phone,
    email: d.email,
    hasCustomToken: d.customToken !== null,
    disabled: d.disabledAt !== null,
    disabledAt: d.disabledAt,
    lastLoginAt: d.lastLoginAt,
    createdAt: d.createdAt,
  };
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function likeLiteral(pattern: string): SQL {
  if (pattern.includes("\0")) throw new DomainError("validation_failed", "The search text contains a NUL character.");
  // standard_conforming_strings is on: doubling single quotes is the complete escape.
  return sql.raw(`'${pattern.replace(/'/g, "''")}'`);
}

export interface DeviceSearchInput {
  q?: string | null;
  /** The id of the last device of the previous page (ids are UUIDv7: they sort by creation). */
  after?: string | null;
  limit?: number | null;
}

export interface DevicePage {
  devices: DeviceView[];
  nextCursor: string | null;
  /** How the query was understood, for the page to say so. */
  matchedBy: "recent" | "device_token" | "device_token_prefix" | "device_id" | "text";
}

/**
 * One search box: a full DeviceToken (hash lookup), a DeviceToken prefix (`dt_...`), a device id,
 * or the prefix of a ClientId, email, first/last name or nickname ("Jane Do" matches first and
 * last name). QA staff see sandbox devices only.
 */
export async function searchDevices(db: Executor, actor: Actor, input: DeviceSearchInput = {}): Promise<DevicePage> {
  assertStaffCan(actor, "devices:read");
  const envs: Environment[] = actor.type === "staff" ? visibleEnvironments(actor.role) : [...ENVIRONMENTS];
  const limit = Math.min(Math.max(1, Math.trunc(input.limit ?? DEVICE_PAGE_SIZE)), 200);
  const q = (input.q ?? "").trim();
  // Read before the id test below: a failed type guard would leave `q` typed as never.
  const lower = q.toLowerCase();
  if (q.length > 300) throw new DomainError("validation_failed", "The search text is longer than 300 characters.", { field: "q" });
  if (input.after && !isUuid(input.after))
    throw new DomainError("invalid_cursor", "The page cursor is not valid; start from the first page.", { field: "cursor" });

  let match: SQL | undefined;
  let matchedBy: DevicePage["matchedBy"] = "recent";
  if (q === "") {
    match = undefined;
  } else if (looksLike("device_token", q)) {
    match = eq(devices.deviceTokenHash, hashSecret(q));
    matchedBy = "device_token";
  } else if (/^dt_[0-9A-Za-z]{1,}$/.test(q)) {
    match = q.length >= 11 ? eq(devices.deviceTokenPrefix, q.slice(0, 11)) : sql`${devices.deviceTokenPrefix} like ${likeLiteral(`${escapeLike(q)}%`)}`;
    matchedBy = "device_token_prefix";
  } else if (isUuid(q)) {
    match = eq(devices.id, lower);
    matchedBy = "device_id";
  } else {
    const prefix = likeLiteral(`${escapeLike(lower)}%`);
    const ors: SQL[] = [
      sql`lower(${devices.clientId}) like ${prefix}`,
      sql`lower(${devices.email}) like ${prefix}`,
      sql`lower(${devices.firstName}) like ${prefix}`,
      sql`lower(${devices.lastName}) like ${prefix}`,
      sql`lower(${devices.nickname}) like ${prefix}`,
    ];
    const parts = lower.split(/\s+/);
    if (parts.length === 2) {
      ors.push(
        sql`(lower(${devices.firstName}) like ${likeLiteral(`${escapeLike(parts[0]!)}%`)} and lower(${devices.lastName}) like ${likeLiteral(`${escapeLike(parts[1]!)}%`)})`,
      );
    }
    match = sql`(${sql.join(ors, sql` or `)})`;
    matchedBy = "text";
  }

  const rows = await db
    .select({ device: devices, instanceName: instances.name, environment: instances.environment })
    .from(devices)
    .innerJoin(instances, eq(instances.id, devices.instanceId))
    .where(and(match, inArray(instances.environment, envs), input.after ? sql`${devices.id} < ${input.after}` : undefined))
    .orderBy(desc(devices.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return {
    devices: page.map((r) => toDeviceView(r.device, { name: r.instanceName, environment: r.environment })),
    nextCursor: rows.length > limit ? page[page.length - 1]!.device.id : null,
    matchedBy,
  };
}

export interface DeviceHistoryEntry {
  id: string;
  action: string;
  outcome: string;
  occurredAt: Date;
  actorType: string;
  actorName: string | null;
  reason: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

export interface CurrentJwtView {
  header: { alg: string; kid: string | null; typ: "JWT" };
  claims: Record<string, unknown>;
  issuedBy: "device.registered" | "device.login" | "device.token_refreshed";
  issuedAt: Date;
  expiresAt: Date;
  expired: boolean;
  secondsLeft: number;
  /** Whether tokendesk would accept it now (GET /v1/Devices/me). */
  accepted: boolean;
  status: "valid" | "expired" | "device_disabled";
}

export interface DeviceDetail {
  device: DeviceView;
  instance: InstanceView;
  refreshTokens: { live: number; used: number; revoked: number; expired: number };
  history: DeviceHistoryEntry[];
  currentJwt: CurrentJwtView | null;
}

const ISSUING_ACTIONS = ["device.registered", "device.login", "device.token_refreshed"] as const;

async function loadDevice(db: Executor, id: string, lock = false): Promise<{ device: Device; instance: Instance }> {
  if (!isUuid(id)) throw new DomainError("not_found", "No such device.");
  const q = db
    .select({ device: devices, instance: instances })
    .from(devices)
    .innerJoin(instances, eq(instances.id, devices.instanceId))
    .where(eq(devices.id, id));
  const [row] = lock ? await q.for("update", { of: devices }) : await q;
  if (!row) throw new DomainError("not_found", "No such device.");
  return row;
}

/**
 * The JWT tokendesk issued last for this device. tokendesk never stores issued JWTs (a stored
 * bearer token is a stolen one waiting to happen), so its claims are rebuilt from the jti/iat/exp/kid
 * recorded in the audit event of the issuance; everything else in a device JWT is fixed by the
 * device and its instance. To see an actual token, paste it into the JWT inspector.
 */
function currentJwtFrom(events: DeviceHistoryEntry[], device: Device, instance: Instance, now: Date): CurrentJwtView | null {
  const latest = events.find((e) => e.outcome === "success" && (ISSUING_ACTIONS as readonly string[]).includes(e.action) && e.details.issued);
  if (!latest) return null;
  const issued = latest.details.issued as { jti: string; iat: number; exp: number; kid: string | null };
  const expiresAt = new Date(issued.exp * 1000);
  const expired = expiresAt.getTime() <= now.getTime();
  const disabled = device.disabledAt !== null;
  return {
    header: { alg: SIGNING_ALG, kid: issued.kid ?? null, typ: "JWT" },
    claims: {
      iss: config().publicUrl,
      aud: DEVICE_AUDIENCE,
      sub: device.id,
      iat: issued.iat,
      exp: issued.exp,
      jti: issued.jti,
      instance_id: instance.id,
      environment: instance.environment,
    },
    issuedBy: latest.action as CurrentJwtView["issuedBy"],
    issuedAt: new Date(issued.iat * 1000),
    expiresAt,
    expired,
    secondsLeft: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
    accepted: !expired && !disabled,
    status: disabled ? "device_disabled" : expired ? "expired" : "valid",
  };
}

export async function getDeviceDetail(db: Executor, actor: Actor, id: string, opts: { now?: Date } = {}): Promise<DeviceDetail> {
  assertStaffCan(actor, "devices:read");
  const { device, instance } = await loadDevice(db, id);
  assertStaffCan(actor, "devices:read", instance.environment);
  const now = opts.now ?? new Date();
  const events = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.targetType, "device"), eq(auditEvents.targetId, device.id)))
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
    .limit(200);
  const history: DeviceHistoryEntry[] = events.map((e) => ({
    id: e.id,
    action: e.action,
    outcome: e.outcome,
    occurredAt: e.occurredAt,
    actorType: e.actorType,
    actorName: e.actorName,
    reason: e.reason,
    ip: e.ip,
    details: e.details,
  }));
  const [counts] = await db
    .select({
      live: sql<number>`count(*) filter (where ${deviceRefreshTokens.usedAt} is null and ${deviceRefreshTokens.revokedAt} is null and ${deviceRefreshTokens.expiresAt} > ${now.toISOString()}::timestamptz)::int`,
      used: sql<number>`count(*) filter (where ${deviceRefreshTokens.usedAt} is not null)::int`,
      revoked: sql<number>`count(*) filter (where ${deviceRefreshTokens.revokedAt} is not null and ${deviceRefreshTokens.usedAt} is null)::int`,
      expired: sql<number>`count(*) filter (where ${deviceRefreshTokens.usedAt} is null and ${deviceRefreshTokens.revokedAt} is null and ${deviceRefreshTokens.expiresAt} <= ${now.toISOString()}::timestamptz)::int`,
    })
    .from(deviceRefreshTokens)
    .where(eq(deviceRefreshTokens.deviceId, device.id));
  return {
    device: toDeviceView(device, instance),
    instance: toInstanceView(instance),
    refreshTokens: {
      live: Number(counts?.live ?? 0),
      used: Number(counts?.used ?? 0),
      revoked: Number(counts?.revoked ?? 0),
      expired: Number(counts?.expired ?? 0),
    },
    history,
    currentJwt: currentJwtFrom(history, device, instance, now),
  };
}

/** Disabling takes effect at once: the device's JWTs, logins and refreshes are refused from now on. */
export async function setDeviceDisabled(
  db: Database,
  actor: Actor,
  id: string,
  disabled: boolean,
  reason: string,
  meta: RequestMeta,
  opts: { now?: Date } = {},
): Promise<DeviceView> {
  assertStaffCan(actor, "devices:manage");
  const why = requireReason(reason, disabled ? "disabling the device" : "enabling the device");
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const { device, instance } = await loadDevice(tx, id, true);
    assertStaffCan(actor, "devices:manage", instance.environment);
    if ((device.disabledAt !== null) === disabled) return toDeviceView(device, instance);
    const [updated] = await tx
      .update(devices)
      .set({ disabledAt: disabled ? now : null })
      .where(eq(devices.id, device.id))
      .returning();
    await recordAudit(
      tx,
      {
        actor,
        action: disabled ? "device.disabled" : "device.enabled",
        target: { type: "device", id: device.id },
        environment: instance.environment,
        reason: why,
        occurredAt: now,
        details: { instanceId: instance.id, clientId: device.clientId, deviceTokenPrefix: device.deviceTokenPrefix },
        webhook: disabled
          ? {
              type: "device.disabled",
              data: { device_id: device.id, instance_id: instance.id, client_id: device.clientId, environment: instance.environment, initiated_by: actor.type },
            }
          : null,
      },
      meta,
    );
    return toDeviceView(updated!, instance);
  });
}

/** Ends every live refresh token of the device; its current JWT still works until it expires. */
export async function revokeDeviceRefreshTokens(
  db: Database,
  actor: Actor,
  id: string,
  reason: string,
  meta: RequestMeta,
  opts: { now?: Date } = {},
): Promise<{ revoked: number }> {
  assertStaffCan(actor, "devices:manage");
  const why = requireReason(reason, "revoking the device's refresh tokens");
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const { device, instance } = await loadDevice(tx, id, true);
    assertStaffCan(actor, "devices:manage", instance.environment);
    const revoked = await tx
      .update(deviceRefreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(deviceRefreshTokens.deviceId, device.id), isNull(deviceRefreshTokens.usedAt), isNull(deviceRefreshTokens.revokedAt)))
      .returning({ id: deviceRefreshTokens.id });
    await recordAudit(
      tx,
      {
        actor,
        action: "device.tokens_revoked",
        target: { type: "device", id: device.id },
        environment: instance.environment,
        reason: why,
        occurredAt: now,
        details: { instanceId: instance.id, clientId: device.clientId, revokedRefreshTokens: revoked.length },
      },
      meta,
    );
    return { revoked: revoked.length };
  });
}
