import { authenticateInstance, registerDevice, registrationBody } from "@/lib/devices/auth";
import { envelope, parseJsonBody } from "@/lib/devices/envelope";
import { methodNotAllowed, withEnvelope } from "../../_lib/handler";

export const dynamic = "force-dynamic";

export const POST = withEnvelope(async (req, { db, meta, body }) => {
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

export const GET = methodNotAllowed("POST");
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
