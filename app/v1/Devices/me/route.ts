import { authenticateDeviceJwt, deviceSelfView } from "@/lib/devices/auth";
import { envelope } from "@/lib/devices/envelope";
import { methodNotAllowed, withEnvelope } from "../../_lib/handler";

export const dynamic = "force-dynamic";

export const GET = withEnvelope(async (req, { db }) => {
  const auth = req.headers.get("authorization")?.trim() ?? "";
  const token = /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, "").trim() : null;
  const { device, instance } = await authenticateDeviceJwt(db, token || null);
  return envelope(deviceSelfView(device, instance));
});

export const POST = methodNotAllowed("GET");
export const PUT = POST;
export const PATCH = POST;
export const DELETE = POST;
