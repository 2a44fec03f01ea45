import "server-only";
/**
 * The console's JSON endpoints and downloads (staff session cookie; see server/console.ts): live
 * state the pages poll, captured IDV photos, and the audit and migration exports.
 */
import { z } from "zod";
import { exportMigrationEvents } from "@/lib/api-key-migration/events";
import { resolvePeriod } from "@/lib/api-key-migration/report";
import { exportAuditLog } from "@/lib/audit";
import { parseAuditFilter } from "@/lib/audit/query";
import { DomainError, parseInput } from "@/lib/errors";
import { getHandoff, handoffImage } from "@/lib/idv/console";
import { getSignInTokenStatus, listPendingSignInTokens, type PendingSignInToken } from "@/lib/sign-in-tokens";
import { listUserSessions } from "@/lib/users";
import { searchUsers } from "@/lib/users/search";
import { consoleDownload, consoleJson, consoleRoute } from "../console";

// Wire shapes of these endpoints as the browser receives them (dates as ISO strings); the console's
// components import them from here.
export interface SignInTokenStatusJson {
  id: string;
  userId: string;
  state: "pending" | "redeemed" | "expired" | "revoked";
  expiresAt: string;
  redeemedAt: string | null;
  sessionId: string | null;
  installationId: string | null;
}

export interface PendingSignInTokenJson {
  id: string;
  createdAt: string;
  expiresAt: string;
  issuedBy: PendingSignInToken["issuedBy"];
  reason: string | null;
}

export const pendingSignInTokenJson = (p: PendingSignInToken): PendingSignInTokenJson => ({
  id: p.id,
  createdAt: p.createdAt.toISOString(),
  expiresAt: p.expiresAt.toISOString(),
  issuedBy: p.issuedBy,
  reason: p.reason,
});

export interface SessionJson {
  id: string;
  installationId: string | null;
  migratedFromKeyId: string | null;
  createdAt: string;
  lastRefreshAt: string | null;
  firstIp: string | null;
  firstUserAgent: string | null;
  lastIp: string | null;
  lastUserAgent: string | null;
  expiresAt: string;
  revokedAt: string | null;
  revokeReason: string | null;
  state: "active" | "revoked" | "expired";
}

export interface HandoffStatusJson {
  id: string;
  status: string;
  expiresAt: string;
  submittedAt: string | null;
  steps: Array<{ id: string; label: string; completed: boolean }>;
}

/** GET /api/console/handoffs/{id}: a handoff's live status. */
export const handoffStatusRoute = consoleJson<{ id: string }>(async ({ actor, db, params }) => {
  const h = await getHandoff(db, actor, params.id);
  return {
    id: h.id,
    status: h.status,
    expiresAt: h.expiresAt,
    submittedAt: h.submittedAt,
    steps: h.steps.map((s) => ({ id: s.id, label: s.label, completed: s.completed })),
  };
});

/** GET /api/console/handoffs/{id}/images/{step}: a captured photo, for staff who may see the session; never cached, never public. */
export const handoffImageRoute = consoleRoute<{ id: string; step: string }>(
  async ({ actor, db, params }) => {
    const img = await handoffImage(db, actor, params.id, params.step);
    return new Response(new Uint8Array(img.bytes), {
      headers: {
        "Content-Type": img.contentType,
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
      },
    });
  },
  { signedOut: "Sign in to see captured images." },
);

/** GET /api/console/sign-in-tokens/{id}: waiting, redeemed (by which installation), expired or revoked, for the issue dialog. */
export const signInTokenStatusRoute = consoleJson<{ id: string }>(async ({ actor, db, params }): Promise<SignInTokenStatusJson> => {
  const status = await getSignInTokenStatus(db, actor, params.id);
  let installationId: string | null = null;
  if (status.sessionId) {
    const sessions = await listUserSessions(db, actor, status.userId, { limit: 50 });
    installationId = sessions.find((s) => s.id === status.sessionId)?.installationId ?? null;
  }
  return {
    id: status.id,
    userId: status.userId,
    state: status.state,
    expiresAt: status.expiresAt.toISOString(),
    redeemedAt: status.redeemedAt?.toISOString() ?? null,
    sessionId: status.sessionId,
    installationId,
  };
});

/** GET /api/console/users/{id}/sign-in-tokens: the user page's live list of pending sign-in tokens. */
export const userSignInTokensRoute = consoleJson<{ id: string }>(async ({ actor, db, params }) => {
  const tokens = await listPendingSignInTokens(db, actor, params.id);
  return { tokens: tokens.map(pendingSignInTokenJson) };
});

export interface UserPickJson {
  id: string;
  clientUserId: string;
  name: string | null;
  email: string | null;
  environment: string;
  region: string;
}

/**
 * GET /api/console/users?q=…: a few active users whose id, client user id, email or name matches,
 * for pickers (the handoff form picks its user by name or email, not by a pasted UUID). The search
 * is the users page's (lib/users/search), with its role rules: QA finds sandbox users only.
 */
export const userPickerRoute = consoleJson<Record<string, never>>(async ({ actor, db, req }) => {
  const q = (new URL(req.url).searchParams.get("q") ?? "").trim().slice(0, 200);
  if (q.length < 2) return { users: [] };
  const page = await searchUsers(db, actor, { q, status: "active", limit: 8 });
  const users: UserPickJson[] = page.users.map((u) => ({
    id: u.id,
    clientUserId: u.clientUserId,
    name: u.name,
    email: u.email,
    environment: u.environment,
    region: u.region,
  }));
  return { users };
});

/** GET /api/console/users/{id}/sessions: the user page's live list of SDK sessions. */
export const userSessionsRoute = consoleJson<{ id: string }>(async ({ actor, db, params }) => {
  const sessions = await listUserSessions(db, actor, params.id);
  return { sessions };
});

/** GET /audit/export?format=csv|ndjson&<filters>: the filtered log, streamed. */
export const auditExportRoute = consoleDownload(
  "audit:export",
  { signedOut: "Sign in to export the audit log.", forbidden: "Your role may not export the audit log." },
  async ({ actor, db, req, meta }) => {
    const url = new URL(req.url);
    const format = url.searchParams.get("format") ?? "csv";
    if (format !== "csv" && format !== "ndjson") throw new DomainError("validation_failed", "format must be csv or ndjson.");
    url.searchParams.delete("format");
    url.searchParams.delete("cursor");
    const stream = await exportAuditLog(db, actor, parseAuditFilter(url.searchParams), format, meta);
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return { stream, format, filename: `tokendesk-audit-${stamp}.${format}` };
  },
);

const migrationExportQuery = z.object({
  format: z.enum(["csv", "ndjson"], "must be csv or ndjson").default("csv"),
  from: z.coerce.date("must be a date").optional(),
  to: z.coerce.date("must be a date").optional(),
  apiKeyId: z.uuid("must be an API key id").optional(),
  outcome: z.enum(["completed", "rejected"], "must be completed or rejected").optional(),
});

/** GET /migrations/export?format=csv|ndjson&from&to&apiKeyId&outcome — the report's events, streamed. */
export const migrationsExportRoute = consoleDownload(
  "migrations:read",
  { signedOut: "Sign in to export migration events.", forbidden: "Your role may not read the migration report." },
  async ({ actor, db, req, meta }) => {
    const raw = Object.fromEntries([...new URL(req.url).searchParams].filter(([, v]) => v !== ""));
    const query = parseInput(migrationExportQuery, raw);
    const { format, apiKeyId, outcome } = query;
    const period = resolvePeriod(query);
    const stream = await exportMigrationEvents(db, actor, { ...period, apiKeyId, outcome }, format, meta);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    return { stream, format, filename: `tokendesk-migrations-${day(period.from)}-${day(period.to)}.${format}` };
  },
);
