/**
 * What the token endpoint hands out: an access JWT (aud `tokendesk`, `sid` = the SDK session, the
 * user's environment and region) and an opaque rotating refresh token stored only as a hash
 * (written where it is issued: exchange.ts, refresh.ts).
 */
import type { Database } from "@/db/client";
import { SDK_AUDIENCE, signJwt } from "./jwt";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const SIGN_IN_TOKEN_TYPE = "urn:tokendesk:params:oauth:token-type:sign-in-token";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
export const REFRESH_GRANT = "refresh_token";

export interface TokenResponse {
  access_token: string;
  issued_token_type?: typeof ACCESS_TOKEN_TYPE;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  user_id: string;
  environment: string;
  region: string;
}

export interface SessionClaims {
  userId: string;
  sessionId: string;
  environment: string;
  region: string;
}

export async function signAccessToken(db: Database, s: SessionClaims, ttlSeconds: number, now: Date) {
  return signJwt(db, { sid: s.sessionId, environment: s.environment, region: s.region }, { audience: SDK_AUDIENCE, subject: s.userId, ttlSeconds, now });
}
