/**
 * What callers see of users and SDK sessions: DTOs, never rows. The `/v2` family's wire shape
 * (snake_case, Junction-style) is server/routes/users.ts's `apiUser`; the console uses these views.
 */
import type { SdkSession, User } from "@/db/schema";

export type UserStatus = "active" | "disabled" | "deleted";

export interface UserView {
  id: string;
  clientUserId: string;
  environment: "sandbox" | "production";
  region: string;
  email: string | null;
  name: string | null;
  status: UserStatus;
  disabledAt: Date | null;
  deletedAt: Date | null;
  createdAt: Date;
}

export function toUserView(u: User): UserView {
  return {
    id: u.id,
    clientUserId: u.clientUserId,
    environment: u.environment,
    region: u.region,
    email: u.email,
    name: u.name,
    status: u.deletedAt ? "deleted" : u.disabledAt ? "disabled" : "active",
    disabledAt: u.disabledAt,
    deletedAt: u.deletedAt,
    createdAt: u.createdAt,
  };
}

export type SessionState = "active" | "revoked" | "expired";

export interface SessionView {
  id: string;
  userId: string;
  environment: "sandbox" | "production";
  region: string;
  installationId: string | null;
  signInTokenId: string | null;
  migratedFromKeyId: string | null;
  createdAt: Date;
  lastRefreshAt: Date | null;
  /** The client of the session's first use (the exchange) and of its latest (the latest refresh; null before one). */
  firstIp: string | null;
  firstUserAgent: string | null;
  lastIp: string | null;
  lastUserAgent: string | null;
  expiresAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
  state: SessionState;
}

export function toSessionView(s: SdkSession, now: Date = new Date()): SessionView {
  return {
    id: s.id,
    userId: s.userId,
    environment: s.environment,
    region: s.region,
    installationId: s.installationId,
    signInTokenId: s.signInTokenId,
    migratedFromKeyId: s.migratedFromKeyId,
    createdAt: s.createdAt,
    lastRefreshAt: s.lastRefreshAt,
    firstIp: s.firstIp,
    firstUserAgent: s.firstUserAgent,
    lastIp: s.lastIp,
    lastUserAgent: s.lastUserAgent,
    expiresAt: s.expiresAt,
    revokedAt: s.revokedAt,
    revokeReason: s.revokeReason,
    state: s.revokedAt ? "revoked" : s.expiresAt.getTime() <= now.getTime() ? "expired" : "active",
  };
}
