/**
 * The telematics device flows (Damoov-style): register a device with InstanceId + InstanceKey,
 * log in with InstanceId + DeviceToken + InstanceKey, refresh a device JWT with a rotating refresh
 * token, and authenticate a device JWT. Refresh follows the OAuth rule (lib/oauth/refresh.ts): a
 * used token is accepted again only inside the instance's grace window, as a retry that replaces
 * its successor, so parallel refreshes by one device never revoke the winner's new pair; a replaced
 * successor, or the used token after the window, is reuse and revokes the device's refresh tokens.
 * Every issuance writes its audit event (with the issued JWT's jti/iat/exp, which is what the
 * console later shows as the device's current JWT) in the same statement as the refresh token it
 * stores: registration and login are one autocommit statement each, a refresh is the locking read
 * and one write statement with its COMMIT.
 *
 * JWTs are signed before the transaction opens: signing may read the signing-key table through
 * `db`, and querying through `db` while holding `tx` can deadlock (PGlite has one connection).
 */
import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { commitWith, type Database, type Executor, queryRows } from "@/db/client";
import { columnsOf, rowOf } from "@/db/rows";
import { type Device, deviceRefreshTokens, devices, type Instance, instances } from "@/db/schema";
import { AuditStatement, recordAudit, recordAudits } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { DomainError, type ErrorCode, rateLimited } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { counted } from "@/lib/metrics";
import { DEVICE_AUDIENCE, decodeUnverified, JwtError, signJwt, verifyJwt } from "@/lib/oauth/jwt";
import { admit, clientAddressOf, humanDuration, type Limit, peekLimit, SAMPLE_WINDOW_SECONDS, sampleFailure } from "@/lib/rate-limit";
import { findInstance, instanceKeyMatches } from "./instances";
import { displayPrefix, looksLike, newDeviceSecret } from "./secrets";

/**
 * Every login naming a registered DeviceToken counts against that device, whichever server instance
 * or telematics instance it is sent to: an SDK logs in only when it has neither a JWT nor a refresh
 * token, so ten in ten minutes is already a loop or an attack.
 */
export const DEVICE_LOGIN_LIMIT: Limit = { max: 10, windowSeconds: 600 };
/**
 * Failed logins per client address (RequestMeta.clientAddress). Failures, not attempts, so a fleet
 * behind one carrier NAT can still log in; once reached, the address's every attempt is refused.
 */
export const IP_LOGIN_FAILURE_LIMIT: Limit = { max: 30, windowSeconds: 600 };

/** A failure the envelope reports, with the request field it is about as the error's Key. */
export function deviceError(code: ErrorCode, key: string, message: string, extra: Record<string, unknown> = {}): DomainError {
  return new DomainError(code, message, { ...extra, field: key });
}

export interface IssuedDeviceTokens {
  deviceId: string;
  deviceToken: string;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  /** The issued JWT's identifiers (the same as in the audit event). */
  jti: string;
  exp: number;
}

interface SignedPair {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  issued: { jti: string; iat: number; exp: number; kid: string | null };
}

async function signPair(db: Database, device: Pick<Device, "id">, instance: Instance, now: Date): Promise<SignedPair> {
  const jwt = await signJwt(
    db,
    { instance_id: instance.id, environment: instance.environment },
    { audience: DEVICE_AUDIENCE, subject: device.id, ttlSeconds: instance.jwtTtlSeconds, now },
  );
  const kid = decodeUnverified(jwt.token).header.kid ?? null;
  return {
    accessToken: jwt.token,
    expiresIn: instance.jwtTtlSeconds,
    refreshToken: newDeviceSecret("refresh_token"),
    issued: { jti: jwt.jti, iat: jwt.iat, exp: jwt.exp, kid },
  };
}

/** The values of a pair's refresh token, as `storedRefreshToken` names them. */
type StoredName = "deviceId" | "refreshId" | "refreshHash" | "refreshExpiresAt" | "now";

/**
 * The pair's refresh token as a data-modifying CTE (`stored as (insert …)`) of the statement that
 * writes the issuance's audit event (recordAudits' `alongside`): the token exists exactly when its
 * event does, in one statement and one round trip. Part of each issuance's AuditStatement below,
 * written with its placeholders.
 */
const storedRefreshToken = (p: Record<StoredName, unknown>): SQL => sql`stored as (
        insert into device_refresh_tokens (id, device_id, token_hash, expires_at, created_at)
        values (${p.refreshId}::uuid, ${p.deviceId}::uuid, ${p.refreshHash}, ${p.refreshExpiresAt}::timestamptz, ${p.now}::timestamptz))`;

/** storedRefreshToken's values for a pair issued to `deviceId` at `now`. */
function storedValues(deviceId: string, pair: SignedPair, instance: Instance, now: Date): Record<StoredName, string> {
  return {
    deviceId,
    refreshId: newId(),
    refreshHash: hashSecret(pair.refreshToken),
    refreshExpiresAt: new Date(now.getTime() + instance.refreshTtlSeconds * 1000).toISOString(),
    now: now.toISOString(),
  };
}

export const deviceActor = (d: Pick<Device, "id" | "clientId">): Actor => ({ type: "device", id: d.id, name: d.clientId });

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

const text = (max: number) =>
  z
    .string("must be a string")
    .trim()
    .max(max, `must be at most ${max} characters`)
    .nullish()
    .transform((v) => (v ? v : null));

export const registrationBody = z.object({
  UserFields: z.object({ ClientId: text(200) }, 'must be an object like {"ClientId": "..."}').nullish(),
  CustomToken: text(500),
  FirstName: text(120),
  LastName: text(120),
  Nickname: text(120),
  Phone: text(40),
  Email: text(254).refine((v) => v === null || z.email().safeParse(v).success, "must be an email address"),
});
export type RegistrationBody = z.infer<typeof registrationBody>;

/** The instance whose credentials a request presents, or a 401 naming the header at fault. */
export async function authenticateInstance(db: Executor, instanceId: string | null, instanceKey: string | null): Promise<Instance> {
  if (!instanceId) throw deviceError("missing_instance_id", "InstanceId", "The InstanceId header is required.");
  if (!instanceKey) throw deviceError("missing_instance_key", "InstanceKey", "The InstanceKey header is required.");
  const instance = await findInstance(db, instanceId);
  if (!instance) throw deviceError("unknown_instance", "InstanceId", "No instance has this InstanceId.");
  if (!instanceKeyMatches(instance, instanceKey)) throw deviceError("invalid_instance_key", "InstanceKey", "The InstanceKey does not match this instance.");
  return instance;
}

/** Registration's writes beside its audit event: the device and its first refresh token. */
const REGISTER = new AuditStatement<
  StoredName | "instanceId" | "deviceTokenHash" | "deviceTokenPrefix" | "clientId" | "firstName" | "lastName" | "nickname" | "phone" | "email" | "customToken"
>(
  (p) => sql`device as (
          insert into devices (id, instance_id, device_token_hash, device_token_prefix, client_id, first_name, last_name, nickname, phone, email,
                               custom_token, created_at)
          values (${p.deviceId}::uuid, ${p.instanceId}::uuid, ${p.deviceTokenHash}, ${p.deviceTokenPrefix}, ${p.clientId},
                  ${p.firstName}, ${p.lastName}, ${p.nickname}, ${p.phone}, ${p.email},
                  ${p.customToken}, ${p.now}::timestamptz)
        ), ${storedRefreshToken(p)}`,
);

/**
 * REGISTER with a registration's values. (`?? null`: an absent field is NULL; a missing value is
 * refused rather than sent as nothing.)
 */
export function registrationWrites(deviceId: string, deviceToken: string, instance: Instance, body: RegistrationBody, pair: SignedPair, now: Date) {
  return {
    statement: REGISTER,
    values: {
      ...storedValues(deviceId, pair, instance, now),
      instanceId: instance.id,
      deviceTokenHash: hashSecret(deviceToken),
      deviceTokenPrefix: displayPrefix(deviceToken),
      clientId: body.UserFields?.ClientId ?? null,
      firstName: body.FirstName ?? null,
      lastName: body.LastName ?? null,
      nickname: body.Nickname ?? null,
      phone: body.Phone ?? null,
      email: body.Email ?? null,
      customToken: body.CustomToken ?? null,
    },
  };
}

export async function registerDevice(
  db: Database,
  instance: Instance,
  body: RegistrationBody,
  meta: RequestMeta,
  opts: { now?: Date } = {},
): Promise<IssuedDeviceTokens> {
  const now = opts.now ?? new Date();
  const deviceId = newId();
  const deviceToken = newDeviceSecret("device_token");
  const pair = await signPair(db, { id: deviceId }, instance, now);
  const clientId = body.UserFields?.ClientId ?? null;
  // One autocommit statement: the device, its first refresh token and the audit event (with its
  // webhook event) are written together or not at all (REGISTER).
  await recordAudits(
    db,
    [
      {
        actor: deviceActor({ id: deviceId, clientId }),
        action: "device.registered",
        target: { type: "device", id: deviceId },
        environment: instance.environment,
        occurredAt: now,
        details: { instanceId: instance.id, instanceName: instance.name, deviceTokenPrefix: displayPrefix(deviceToken), clientId, issued: pair.issued },
        webhook: { type: "device.registered", data: { device_id: deviceId, instance_id: instance.id, client_id: clientId, environment: instance.environment } },
      },
    ],
    meta,
    { alongside: registrationWrites(deviceId, deviceToken, instance, body, pair, now) },
  );
  return { deviceId, deviceToken, ...pair, jti: pair.issued.jti, exp: pair.issued.exp };
}

// ---------------------------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------------------------

export interface LoginInput {
  instanceId: string | null;
  deviceToken: string;
  password: string;
}

function limitedError(retryAfterSeconds: number, who: "device" | "ip"): DomainError {
  const err = rateLimited(
    `Too many login attempts ${who === "device" ? "for this DeviceToken" : "from this address"}; try again in ${humanDuration(retryAfterSeconds)}.`,
    retryAfterSeconds,
  );
  err.extra.field = "LoginFields";
  return err;
}

/** A login's writes beside its audit event: the device's last login time and the new refresh token. */
const LOGIN = new AuditStatement<StoredName>(
  (p) => sql`stamped as (update devices set last_login_at = ${p.now}::timestamptz where id = ${p.deviceId}::uuid), ${storedRefreshToken(p)}`,
);

/** LOGIN with a login's values. */
export function loginWrites(deviceId: string, instance: Instance, pair: SignedPair, now: Date) {
  return { statement: LOGIN, values: storedValues(deviceId, pair, instance, now) };
}

/** Device login; every call is counted in tokendesk_device_logins_total by outcome. */
export const loginDevice = counted("deviceLogins", login);

async function login(db: Database, input: LoginInput, meta: RequestMeta, opts: { now?: Date } = {}): Promise<IssuedDeviceTokens> {
  const now = opts.now ?? new Date();
  const address = clientAddressOf(meta);
  const ipKey = address ? `device-login:ip:${address}` : null;
  if (ipKey) {
    const ipState = await peekLimit(db, ipKey, now);
    if (ipState.blocked) throw limitedError(ipState.retryAfterSeconds, "ip");
  }
  // Attempts are counted per device, so a made-up DeviceToken creates no bucket of its own: its
  // failures count against the address (below), one row per address and window.
  const [known] = await db
    .select()
    .from(devices)
    .where(eq(devices.deviceTokenHash, hashSecret(input.deviceToken)));
  if (known) {
    const deviceState = await admit(db, `device-login:device:${known.id}`, DEVICE_LOGIN_LIMIT, now);
    if (!deviceState.admitted) throw limitedError(deviceState.retryAfterSeconds, "device");
  }

  const fail = async (err: DomainError, device: Device | null, instance: Instance | null): Promise<never> => {
    const ipState = ipKey ? await admit(db, ipKey, IP_LOGIN_FAILURE_LIMIT, now) : null;
    // A failure whose DeviceToken is a registered device's is written each time (the device's
    // bucket bounds them); one naming no device, once per address and window, with the count so far.
    const sample = known ? { record: true, count: 1 } : await sampleFailure(db, "device-login-unknown", address, now);
    if (sample.record) {
      await recordAudit(
        db,
        {
          actor: device ? deviceActor(device) : { type: "anonymous", id: null, name: null },
          action: "device.login_failed",
          target: device ? { type: "device", id: device.id } : null,
          environment: instance?.environment ?? null,
          outcome: "failure",
          occurredAt: now,
          details: {
            reason: err.code,
            instanceId: instance?.id ?? null,
            // Only a string shaped like our DeviceTokens is shown even in part: anything else might
            // be a mistyped secret of some other kind.
            deviceTokenPrefix: looksLike("device_token", input.deviceToken) ? displayPrefix(input.deviceToken) : null,
            ...(known ? {} : { failuresFromAddressInWindow: sample.count, windowSeconds: SAMPLE_WINDOW_SECONDS }),
          },
        },
        meta,
      );
    }
    if (ipState && !ipState.admitted) throw limitedError(ipState.retryAfterSeconds, "ip");
    throw err;
  };

  const instance = await findInstance(db, input.instanceId);
  if (!instance) return fail(deviceError("unknown_instance", "InstanceId", "No instance has this InstanceId."), null, null);
  if (!instanceKeyMatches(instance, input.password)) {
    return fail(deviceError("invalid_instance_key", "Password", "The Password is not this instance's InstanceKey."), null, instance);
  }
  const device = known;
  if (!device || device.instanceId !== instance.id) {
    return fail(
      deviceError("unknown_device_token", "LoginFields.Devicetoken", "No device with this DeviceToken is registered on this instance."),
      null,
      instance,
    );
  }
  if (device.disabledAt) return fail(deviceError("device_disabled", "LoginFields.Devicetoken", "This device has been disabled."), device, instance);

  const pair = await signPair(db, device, instance, now);
  // One autocommit statement: the login's time, the new refresh token and the audit event (LOGIN).
  await recordAudits(
    db,
    [
      {
        actor: deviceActor(device),
        action: "device.login",
        target: { type: "device", id: device.id },
        environment: instance.environment,
        occurredAt: now,
        details: { instanceId: instance.id, deviceTokenPrefix: device.deviceTokenPrefix, issued: pair.issued },
      },
    ],
    meta,
    { alongside: loginWrites(device.id, instance, pair, now) },
  );
  return { deviceId: device.id, deviceToken: input.deviceToken, ...pair, jti: pair.issued.jti, exp: pair.issued.exp };
}

// ---------------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------------

function jwtFailure(err: unknown, key: string): DomainError {
  if (err instanceof JwtError) {
    return deviceError(err.reason === "expired" ? "token_expired" : "invalid_token", key, err.message);
  }
  throw err;
}

async function liveDevice(db: Executor, deviceId: string, key: string): Promise<{ device: Device; instance: Instance }> {
  if (!z.uuid().safeParse(deviceId).success) throw deviceError("invalid_token", key, "The token does not name a device.");
  // The device and its instance in one statement: every device API call and refresh reads both.
  const [raw] = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${columnsOf(devices, "d")}, ${columnsOf(instances, "i", "i_")}
        from devices d left join instances i on i.id = d.instance_id where d.id = ${deviceId}::uuid`,
    { prepare: true },
  );
  if (!raw) throw deviceError("unknown_device", key, "The device of this token no longer exists.");
  const device = rowOf(devices, raw);
  if (device.disabledAt) throw deviceError("device_disabled", key, "This device has been disabled.");
  if (raw.i_id === null || raw.i_id === undefined) throw deviceError("unknown_instance", key, "The instance of this device no longer exists.");
  return { device, instance: rowOf(instances, raw, "i_") };
}

/**
 * A refresh's writes beside its audit event (refreshDevice says what they do). `replacingId` is NULL
 * when the refresh replaces no successor: that update then matches no row.
 */
const REFRESH = new AuditStatement<StoredName | "presentedId" | "graceUntil" | "replacingId">(
  (p) => sql`${storedRefreshToken(p)}, presented as (
            update device_refresh_tokens set successor_id = ${p.refreshId}::uuid, used_at = coalesce(used_at, ${p.now}::timestamptz),
              grace_until = coalesce(grace_until, ${p.graceUntil}::timestamptz)
            where id = ${p.presentedId}::uuid
          ), replaced as (
            update device_refresh_tokens set replaced_at = ${p.now}::timestamptz where id = ${p.replacingId}::uuid
          )`,
);

/** REFRESH with a refresh's values: `presentedId` is rotated, `replacingId` (if any) replaced. */
export function refreshWrites(deviceId: string, presentedId: string, replacingId: string | null, instance: Instance, pair: SignedPair, now: Date) {
  return {
    statement: REFRESH,
    values: {
      ...storedValues(deviceId, pair, instance, now),
      presentedId,
      graceUntil: new Date(now.getTime() + instance.refreshGraceSeconds * 1000).toISOString(),
      replacingId,
    },
  };
}

/** Device JWT refresh; every call is counted in tokendesk_device_refreshes_total by outcome. */
export const refreshDeviceToken = counted("deviceRefreshes", refreshDevice);

async function refreshDevice(
  db: Database,
  input: { accessToken: string; refreshToken: string },
  meta: RequestMeta,
  opts: { now?: Date } = {},
): Promise<Omit<IssuedDeviceTokens, "deviceToken">> {
  const now = opts.now ?? new Date();
  let claims: { sub: string };
  try {
    // The JWT may have expired (that is why the SDK refreshes) but must be ours and intact.
    claims = await verifyJwt(db, input.accessToken, { audience: DEVICE_AUDIENCE, now, allowExpired: true });
  } catch (err) {
    throw jwtFailure(err, "AccessToken");
  }
  const { device, instance } = await liveDevice(db, claims.sub, "AccessToken");
  const pair = await signPair(db, device, instance, now);
  const hash = hashSecret(input.refreshToken);

  const outcome = await db.transaction(async (tx) => {
    // The presented token's row is locked: refreshes with one token run one after the other, so of
    // N parallel ones the first rotates it and the rest are retries inside its grace window.
    const [raw] = await queryRows<Record<string, unknown>>(
      tx,
      sql`select ${columnsOf(deviceRefreshTokens)} from device_refresh_tokens where token_hash = ${hash} for update`,
      { prepare: true },
    );
    const row = raw ? rowOf(deviceRefreshTokens, raw) : null;
    if (!row || row.deviceId !== device.id) return "unknown" as const;
    const reuse = async (why: "after_grace" | "replaced" | "successor_used") => {
      // A used refresh token presented again means it was copied: whoever holds the newer one may
      // be the thief, so every live refresh token of the device ends and the device logs in again.
      const revoked = await tx
        .update(deviceRefreshTokens)
        .set({ revokedAt: now })
        .where(and(eq(deviceRefreshTokens.deviceId, device.id), isNull(deviceRefreshTokens.revokedAt), isNull(deviceRefreshTokens.usedAt)))
        .returning({ id: deviceRefreshTokens.id });
      await recordAudit(
        tx,
        {
          actor: deviceActor(device),
          action: "device.refresh_reuse_detected",
          target: { type: "device", id: device.id },
          environment: instance.environment,
          outcome: "denied",
          occurredAt: now,
          details: {
            instanceId: instance.id,
            refreshTokenId: row.id,
            why,
            usedAt: row.usedAt?.toISOString() ?? null,
            replacedAt: row.replacedAt?.toISOString() ?? null,
            revokedRefreshTokens: revoked.length,
          },
        },
        meta,
      );
      return "reused" as const;
    };
    if (row.replacedAt) return reuse("replaced");
    if (row.revokedAt) return "revoked" as const;
    let replacing: string | null = null;
    if (row.usedAt) {
      if (!row.graceUntil || row.graceUntil.getTime() <= now.getTime()) return reuse("after_grace");
      // A retry inside the window (a lost response, or a second thread of the device): it replaces
      // the successor instead of revoking it — unless that successor has already been used.
      if (row.successorId) {
        const [successor] = await tx.select().from(deviceRefreshTokens).where(eq(deviceRefreshTokens.id, row.successorId)).for("update");
        if (successor?.usedAt) return reuse("successor_used");
        // Revoked (the device was disabled, or reuse ended its tokens): a retry does not revive it.
        if (successor?.revokedAt) return "revoked" as const;
        replacing = successor?.id ?? null;
      }
    } else if (row.expiresAt.getTime() <= now.getTime()) {
      return "expired" as const;
    }
    // One statement stores the successor, points the presented token at it (marking it used and
    // opening its grace window on first use) and kills the successor a retry replaces, beside the
    // audit event; COMMIT goes right behind it (commitWith): one round trip for all of it.
    const writes = recordAudits(
      tx,
      [
        {
          actor: deviceActor(device),
          action: "device.token_refreshed",
          target: { type: "device", id: device.id },
          environment: instance.environment,
          occurredAt: now,
          details: { instanceId: instance.id, refreshTokenId: row.id, replacedRefreshTokenId: replacing, issued: pair.issued },
        },
      ],
      meta,
      { alongside: refreshWrites(device.id, row.id, replacing, instance, pair, now) },
    );
    return commitWith(tx, writes, "refreshed" as const);
  });

  switch (outcome) {
    case "refreshed":
      return { deviceId: device.id, ...pair, jti: pair.issued.jti, exp: pair.issued.exp };
    case "reused":
      throw deviceError(
        "refresh_token_reused",
        "RefreshToken",
        "This RefreshToken was already used; every refresh token of the device is revoked. Log in again.",
      );
    case "revoked":
      throw deviceError("refresh_token_revoked", "RefreshToken", "This RefreshToken has been revoked. Log in again.");
    case "expired":
      throw deviceError("refresh_token_expired", "RefreshToken", "This RefreshToken has expired. Log in again.");
    default:
      throw deviceError("invalid_refresh_token", "RefreshToken", "This RefreshToken is not valid for this device.");
  }
}

// ---------------------------------------------------------------------------------------------
// JWT-authenticated calls
// ---------------------------------------------------------------------------------------------

/** The device a bearer JWT belongs to; 401 once it expires, and at once for a disabled device. */
export async function authenticateDeviceJwt(db: Executor, token: string | null, opts: { now?: Date } = {}): Promise<{ device: Device; instance: Instance }> {
  if (!token) throw deviceError("missing_token", "Authorization", "Send the device JWT as Authorization: Bearer <Token>.");
  let claims: { sub: string };
  try {
    claims = await verifyJwt(db, token, { audience: DEVICE_AUDIENCE, now: opts.now });
  } catch (err) {
    throw jwtFailure(err, "Authorization");
  }
  return liveDevice(db, claims.sub, "Authorization");
}

/** What a device may see of itself (GET /v1/Devices/me). */
export function deviceSelfView(device: Device, instance: Instance) {
  return {
    Id: device.id,
    InstanceId: instance.id,
    ClientId: device.clientId,
    FirstName: device.firstName,
    LastName: device.lastName,
    Nickname: device.nickname,
    Phone: device.phone,
    Email: device.email,
    CreatedAt: device.createdAt.toISOString(),
    LastLoginAt: device.lastLoginAt?.toISOString() ?? null,
  };
}
