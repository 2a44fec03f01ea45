/** Wire shapes of the console's JSON endpoints (app/api/console/**), as the browser receives them. */
export interface SignInTokenStatusJson {
  id: string;
  userId: string;
  state: "pending" | "redeemed" | "expired";
  expiresAt: string;
  redeemedAt: string | null;
  sessionId: string | null;
  installationId: string | null;
}

export interface SessionJson {
  id: string;
  installationId: string | null;
  migratedFromKeyId: string | null;
  createdAt: string;
  lastRefreshAt: string | null;
  expiresAt: string;
  revokedAt: string | null;
  revokeReason: string | null;
  state: "active" | "revoked" | "expired";
}
