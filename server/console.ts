import "server-only";
/**
 * The console's own HTTP endpoints (`/api/console/*`, polled by TanStack Query, and the CSV/NDJSON
 * downloads): the staff cookie authenticates, the domain function checks the role, errors keep the
 * API's `{error: {code, message}}` shape, and nothing is cached anywhere on the way (the answers
 * change by the second).
 */
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { RequestMeta } from "@/lib/context";
import { can, type Permission } from "@/lib/staff/rbac";
import { type RouteHandler, requestMetaFrom } from "./http";
import { errorResponse, jsonError } from "./machine-api";
import { currentStaff, type StaffActor } from "./staff-session";

const NO_STORE = { "Cache-Control": "no-store" };

export interface ConsoleContext<P> {
  actor: StaffActor;
  db: Database;
  params: P;
  req: Request;
  meta: RequestMeta;
}

/** A console endpoint answering any Response: signed-in staff only (401 otherwise), errors as JSON. */
export function consoleRoute<P>(handler: (ctx: ConsoleContext<P>) => Promise<Response>, opts: { signedOut?: string } = {}): RouteHandler<P> {
  return async (req, routeCtx) => {
    const meta = requestMetaFrom(req.headers);
    try {
      const actor = await currentStaff();
      if (!actor) return jsonError("unauthorized", opts.signedOut ?? "Your console session has ended. Sign in again.", {}, NO_STORE);
      return await handler({ actor, db: await getDb(), params: await routeCtx.params, req, meta });
    } catch (err) {
      const res = errorResponse(err, meta);
      res.headers.set("Cache-Control", "no-store");
      return res;
    }
  };
}

/** A console JSON endpoint: the handler's value as the body, never cached. */
export function consoleJson<P>(handler: (ctx: ConsoleContext<P>) => Promise<unknown>): RouteHandler<P> {
  return consoleRoute<P>(async (ctx) => Response.json(await handler(ctx), { headers: NO_STORE }));
}

/**
 * A streamed download (CSV or NDJSON) for staff holding `permission`. The domain function checks
 * the role again; here a refusal becomes a JSON answer the browser can show.
 */
export function consoleDownload(
  permission: Permission,
  refusal: { signedOut: string; forbidden: string },
  handler: (ctx: ConsoleContext<Record<string, never>>) => Promise<{ stream: ReadableStream<Uint8Array>; format: "csv" | "ndjson"; filename: string }>,
): RouteHandler<Record<string, never>> {
  return consoleRoute(
    async (ctx) => {
      if (!can(ctx.actor.role, permission)) return jsonError("forbidden", refusal.forbidden, {}, NO_STORE);
      const { stream, format, filename } = await handler(ctx);
      return new Response(stream, {
        headers: {
          "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
          "Content-Disposition": `attachment; filename="${filename}"`,
          ...NO_STORE,
        },
      });
    },
    { signedOut: refusal.signedOut },
  );
}
