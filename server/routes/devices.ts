/**
 * The telematics family (`/v1`, Damoov-style): devices register with an instance's credentials,
 * log in with their DeviceToken, refresh their JWT and call as themselves — every answer in the
 * envelope of server/telematics.ts.
 */
import {
  authenticateDeviceJwt,
  authenticateInstance,
  deviceSelfView,
  loginDevice,
  refreshDeviceToken,
  registerDevice,
  registrationBody,
} from "@/lib/devices/auth";
import { noteActor } from "../observe";
import { envelope, envelopeError, loginBody, methodNotAllowed, parseJsonBody, parseLoginFields, refreshBody, withEnvelope } from "../telematics";

/** POST /v1/Registration/create — headers InstanceId + InstanceKey; a new DeviceToken and its first pair. */
export const registerDeviceRoute = withEnvelope(async (req, { db, meta, body }) => {
  // Credentials first: an unauthenticated caller learns nothing about the body's validity.
  const instance = await authenticateInstance(db, req.headers.get("instanceid"), req.headers.get("instancekey"));
  const parsed = parseJsonBody(await body(), registrationBody, { optional: true });
  if (!parsed.ok) return parsed.response;
  const issued = await registerDevice(db, instance, parsed.value, meta);
  return envelope({
    DeviceToken: issued.deviceToken,
    AccessToken: { Token: issued.accessToken, ExpiresIn: issued.expiresIn },
    RefreshToken: issued.refreshToken,
  });
});

/** POST /v1/Auth/Login — LoginFields (a JSON string naming the DeviceToken) and the InstanceKey. */
export const loginDeviceRoute = withEnvelope(async (req, { db, meta, body }) => {
  const parsed = parseJsonBody(await body(), loginBody);
  if (!parsed.ok) return parsed.response;
  const fields = parseLoginFields(parsed.value.LoginFields);
  if (!fields.ok) return fields.response;
  const issued = await loginDevice(db, { instanceId: req.headers.get("instanceid"), deviceToken: fields.deviceToken, password: parsed.value.Password }, meta);
  return envelope({
    DeviceToken: issued.deviceToken,
    AccessToken: { Token: issued.accessToken, ExpiresIn: issued.expiresIn },
    RefreshToken: issued.refreshToken,
  });
});

/** POST /v1/Auth/RefreshToken {AccessToken (may be expired), RefreshToken} — a new pair. */
export const refreshDeviceRoute = withEnvelope(async (_req, { db, meta, body }) => {
  const parsed = parseJsonBody(await body(), refreshBody);
  if (!parsed.ok) return parsed.response;
  const issued = await refreshDeviceToken(db, { accessToken: parsed.value.AccessToken, refreshToken: parsed.value.RefreshToken }, meta);
  return envelope({
    AccessToken: { Token: issued.accessToken, ExpiresIn: issued.expiresIn },
    RefreshToken: issued.refreshToken,
  });
});

/** GET /v1/Devices/me — the device, as itself, with its JWT. */
export const deviceSelfRoute = withEnvelope(async (req, { db }) => {
  const auth = req.headers.get("authorization")?.trim() ?? "";
  const token = /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, "").trim() : null;
  const { device, instance } = await authenticateDeviceJwt(db, token || null);
  noteActor({ type: "device", id: device.id });
  return envelope(deviceSelfView(device, instance));
});

export const onlyPost = methodNotAllowed("POST");
export const onlyGet = methodNotAllowed("GET");

/** Unknown /v1 paths answer in the family's envelope too, not with an HTML 404 page. */
export async function unknownTelematicsPathRoute(req: Request): Promise<Response> {
  return envelopeError(404, "path", `There is no ${req.method} ${new URL(req.url).pathname} in this API.`);
}
