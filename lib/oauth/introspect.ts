/**
 * RFC 7662 introspection for resource servers holding a key with `tokens:introspect`. A key sees
 * only tokens of its own environment and region; anything not live — unknown, expired, revoked,
 * rotated past its grace window, replaced by a retry, of a disabled or deleted user, or of another environment — is
 * `{active: false}` with nothing else said.
 */
import { eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { refreshTokens, sdkSessions, users } from "@/db/schema";
import { assertKeyScope } from "@/lib/api-keys/scopes";
import type { Actor } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { DomainError } from "@/lib/errors";
import { isRefreshTokenShape } from "@/lib/sign-in-tokens/format";
import { authenticateBearer } from "./bearer";

export type Introspection =
  | { active: false }
  | {
      active: true;
      sub: string;
      exp: number;
      iat: number;
      environment: string;
      region: string;
      token_type: "access_token" | "refresh_token";
      sid: string;
      aud?: string;
      iss?: string;
    };

const INACTIVE: Introspection = { active: false };
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export async function introspectToken(db: Executor, actor: Actor, token: string, opts: { now?: Date } = {}): Promise<Introspection> {
  if (actor.type !== "api_key") throw new DomainError("forbidden", "Introspection needs an API key.");
  assertKeyScope(actor, "tokens:introspect");
  const now = opts.now ?? new Date();
  const ours = (environment: string, region: string) => environment === actor.environment && region === actor.region;

  if (isRefreshTokenShape(token)) {
    const [row] = await db
      .select({ rt: refreshTokens, session: sdkSessions, user: users })
      .from(refreshTokens)
      .innerJoin(sdkSessions, eq(sdkSessions.id, refreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sdkSessions.userId))
      .where(eq(refreshTokens.tokenHash, hashSecret(token)));
    if (!row) return INACTIVE;
    const { rt, session, user } = row;
    const live =
      !session.revokedAt &&
      session.expiresAt > now &&
      !user.disabledAt &&
      !user.deletedAt &&
      !rt.replacedAt &&
      (!rt.rotatedAt || (rt.graceUntil !== null && rt.graceUntil > now)) &&
      ours(session.environment, session.region);
    if (!live) return INACTIVE;
    return {
      active: true,
      sub: user.id,
      exp: seconds(session.expiresAt),
      iat: seconds(rt.createdAt),
      environment: session.environment,
      region: session.region,
      token_type: "refresh_token",
      sid: session.id,
    };
  }

  try {
    const who = await authenticateBearer(db, token, { now });
    if (!ours(who.environment, who.region)) return INACTIVE;
    return {
      active: true,
      sub: who.userId,
      exp: who.exp,
      iat: who.iat,
      environment: who.environment,
      region: who.region,
      token_type: "access_token",
      sid: who.sessionId,
      aud: "tokendesk",
    };
  } catch {
    return INACTIVE;
  }
}
