import { refreshDeviceToken } from "@/lib/devices/auth";
import { envelope, parseJsonBody, refreshBody } from "@/lib/devices/envelope";
import { methodNotAllowed, withEnvelope } from "../../_lib/handler";

export const dynamic = "force-dynamic";

export const POST = withEnvelope(async (_req, { db, meta, body }) => {
  const parsed = parseJsonBody(await body(), refreshBody);
  if (!parsed.ok) return parsed.response;
  const issued = await refreshDeviceToken(db, { accessToken: parsed.value.AccessToken, refreshToken: parsed.value.RefreshToken }, meta);
  return envelope({
    AccessToken: { Token: issued.accessToken, ExpiresIn: issued.expiresIn },
    RefreshToken: issued.refreshToken,
  });
});

export const GET = methodNotAllowed("POST");
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
