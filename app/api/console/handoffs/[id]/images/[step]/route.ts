import { getDb } from "@/db";
import { errorResponse, jsonError } from "@/lib/http";
import { handoffImage } from "@/lib/idv/console";
import { requestMetaFrom } from "@/lib/next/request-meta";
import { currentStaff } from "@/lib/next/session";

export const dynamic = "force-dynamic";

/** A captured photo, for signed-in staff who may see the session; never cached, never public. */
export async function GET(req: Request, { params }: { params: Promise<{ id: string; step: string }> }) {
  const actor = await currentStaff();
  if (!actor) return jsonError("unauthorized", "Sign in to see captured images.", 401);
  try {
    const { id, step } = await params;
    const img = await handoffImage(await getDb(), actor, id, step);
    return new Response(new Uint8Array(img.bytes), {
      headers: {
        "Content-Type": img.contentType,
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
      },
    });
  } catch (err) {
    return errorResponse(err, requestMetaFrom(req.headers));
  }
}
