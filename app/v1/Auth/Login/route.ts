import { loginDevice } from "@/lib/devices/auth";
import { envelope, loginBody, parseJsonBody, parseLoginFields } from "@/lib/devices/envelope";
import { methodNotAllowed, withEnvelope } from "../../_lib/handler";

export const dynamic = "force-dynamic";

export const POST = withEnvelope(async (req, { db, meta, body }) => {
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

export const GET = methodNotAllowed("POST");
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
