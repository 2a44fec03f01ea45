/**
 * Authentication for user endpoints that accept either a Team API key (`X-Vital-API-Key`, with a
 * scope) or the user's own SDK access token (`Authorization: Bearer <jwt>`). The key wins when both
 * are sent: an SDK in API-key mode may carry a stale bearer header.
 */
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { ApiKey, User } from "@/db/schema";
import { type ApiKeyScope, apiKeyActor, authenticateApiKey } from "@/lib/api-keys";
import type { Actor, RequestMeta } from "@/lib/context";
import { errorResponse, presentedApiKey } from "@/lib/http";
import { requestMetaFrom } from "@/lib/next/request-meta";
import { authenticateBearer, bearerTokenOf } from "@/lib/oauth/bearer";

export interface KeyOrBearerContext<P> {
  actor: Actor;
  key: ApiKey | null;
  /** With a bearer token: the user's row, read by the same statement that checked the token. */
  bearerUser: User | null;
  db: Database;
  meta: RequestMeta;
  params: P;
}

export function withApiKeyOrBearer<P>(scope: ApiKeyScope, handler: (req: Request, ctx: KeyOrBearerContext<P>) => Promise<Response>) {
  return async (req: Request, routeCtx: { params: Promise<P> }): Promise<Response> => {
    const meta = requestMetaFrom(req.headers);
    try {
      const db = await getDb();
      const params = await routeCtx.params;
      const presented = presentedApiKey(req);
      const bearer = bearerTokenOf(req);
      if (!presented && bearer) {
        const who = await authenticateBearer(db, bearer);
        return await handler(req, { actor: who.actor, key: null, bearerUser: who.user, db, meta, params });
      }
      const key = await authenticateApiKey(db, presented, scope);
      return await handler(req, { actor: apiKeyActor(key), key, bearerUser: null, db, meta, params });
    } catch (err) {
      return errorResponse(err, meta);
    }
  };
}
