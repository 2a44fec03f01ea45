/**
 * The secrets of the telematics family: InstanceKeys, DeviceTokens and device refresh tokens.
 * Each carries 256 bits from a CSPRNG (43 base62 characters) behind a short type prefix, so a
 * leaked string says what it is; only `hashSecret` of it is ever stored.
 */
import { base62, SECRET_BODY_LENGTH } from "@/lib/api-keys/format";
import { secretBytes } from "@/lib/crypto/random";

export type DeviceSecretKind = "instance_key" | "device_token" | "refresh_token";

const PREFIX: Record<DeviceSecretKind, string> = {
  instance_key: "ik_",
  device_token: "dt_",
  refresh_token: "drt_",
};

export function newDeviceSecret(kind: DeviceSecretKind): string {
  return `${PREFIX[kind]}${base62(secretBytes(32), SECRET_BODY_LENGTH)}`;
}

/** Whether `value` has the shape of a secret of this kind (no database involved). */
export function looksLike(kind: DeviceSecretKind, value: string): boolean {
  return value.length === PREFIX[kind].length + SECRET_BODY_LENGTH && value.startsWith(PREFIX[kind]) && /^[0-9A-Za-z]+$/.test(value.slice(PREFIX[kind].length));
}

/** What the console shows of a DeviceToken: its type and 8 characters, enough to recognise it. */
export function displayPrefix(token: string): string {
  return token.slice(0, 11);
}
