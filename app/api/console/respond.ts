import "server-only";
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import { errorResponse, jsonError } from "@/lib/http";
import { requestMetaFrom } from "@/lib/next/request-meta";
import { currentStaff, type StaffActor } from "@/lib/next/session";

/**
 * The console's JSON endpoints (polled by TanStack Query): the staff cookie authenticates, the
 * domain function checks the role, errors keep the API's `{error: {code, message}}` shape, and
 * nothing is cached anywhere on the way (the answers change by the second).
 */
export function consoleJson<P>(handler: (ctx: { actor: StaffActor; db: Database; params: P; req: Request }) => Promise<unknown>) {
  return async (req: Request, routeCtx: { params: Promise<P> }): Promise<Response> => {
    const meta = requestMetaFrom(req.headers);
    const noStore = { "Cache-Control": "no-store" };
    try {
      const actor = await currentStaff();
      if (!actor) return jsonError("unauthorized", "Your console session has ended. Sign in again.", 401, {}, noStore);
      const body = await handler({ actor, db: await getDb(), params: await routeCtx.params, req });
      return Response.json(body, { headers: noStore });
    } catch (err) {
      const res = errorResponse(err, meta);
      res.headers.set("Cache-Control", "no-store");
      return res;
    }
  };
}
