"use server";
import { z } from "zod";
import { inspectJwt, type JwtInspection } from "@/lib/inspector";
import { staffAction } from "@/server/actions";

/**
 * A server action, not a GET route: the pasted token travels in a POST body only, never in a URL,
 * and neither this action nor inspectJwt stores, logs or audits it.
 */
export const inspectJwtAction = staffAction(
  "devices:read",
  z.object({ token: z.string("is required").max(16_384, "is longer than any token tokendesk issues") }),
  async (input, { actor, db }): Promise<JwtInspection> => inspectJwt(db, actor, input.token),
);
