import "server-only";
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { RequestMeta } from "@/lib/context";
import { envelopeError, envelopeFromError } from "@/lib/devices/envelope";
import { readBodyText } from "@/lib/http";
import { requestMetaFrom } from "@/lib/next/request-meta";

/**
 * The telematics route wrapper: request meta, the database, and every failure (including a body
 * over 64 KiB) answered in the envelope. Handlers only parse, call lib/devices and map the result.
 */
export function withEnvelope(handler: (req: Request, ctx: { db: Database; meta: RequestMeta; body: () => Promise<string> }) => Promise<Response>) {
  return async (req: Request): Promise<Response> => {
    const meta = requestMetaFrom(req.headers);
    try {
      return await handler(req, { db: await getDb(), meta, body: () => readBodyText(req) });
    } catch (err) {
      return envelopeFromError(err, meta.requestId);
    }
  };
}

/** Other methods on a telematics path: 405 in the envelope rather than Next's empty body. */
export function methodNotAllowed(allowed: string) {
  return (): Response => {
    const res = envelopeError(405, "method", `Use ${allowed} for this path.`);
    res.headers.set("Allow", allowed);
    return res;
  };
}
