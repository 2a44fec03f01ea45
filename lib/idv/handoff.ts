/**
 * Handoff URLs and who may create them. The URL format is the vendor's, byte for byte:
 *   {BASE}/capture?url=<encodeURIComponent("{BASE}/mobile?authorization=<token>&sessionId=<id>")>
 * A short link {BASE}/h/<code> leads to the same place, so a QR code stays easy to scan.
 * `issueHandoff` (staff) and `createDeeplink` (API key) are one flow: mint a token and start its
 * session in one transaction.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { ephemeralTokens, type IdvSession, idvSessions, users } from "@/db/schema";
import { assertKeyScope } from "@/lib/api-keys/scopes";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { ENVIRONMENTS } from "@/lib/environments";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { regions } from "@/lib/settings/regions";
import { assertStaffCan } from "@/lib/staff/authorize";
import { requireReason } from "@/lib/staff/reason";
import {
  type Environment,
  effectiveStatus,
  type Metadata,
  metadataSchema,
  mintTokenTx,
  type SessionDto,
  startSessionTx,
  toSessionDto,
  ttlSchema,
} from "./sessions";
import { authenticateEphemeralToken, DEFAULT_TOKEN_TTL, shortCodeFor, tokenFor } from "./tokens";

export function handoffUrl(base: string, token: string, sessionId: string): string {
  const inner = `${base}/mobile?authorization=${token}&sessionId=${sessionId}`;
  return `${base}/capture?url=${encodeURIComponent(inner)}`;
}

export function shortLinkUrl(base: string, sessionId: string): string {
  return `${base}/h/${shortCodeFor(sessionId)}`;
}

export function isPhoneUserAgent(ua: string | null | undefined): boolean {
  return !!ua && /Android|iPhone|iPod|iPad|Mobile|webOS|BlackBerry|IEMobile|Opera Mini/i.test(ua);
}

/** Is the PUBLIC_URL one a phone cannot reach (loopback)? */
export function isLoopbackUrl(base: string): boolean {
  try {
    const host = new URL(base).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\./.test(host) || host === "0.0.0.0";
  } catch {
    return false;
  }
}

export interface CaptureTarget {
  /** The inner URL, re-serialised from its parsed parts (never the raw input). */
  url: string;
  token: string;
  sessionId: string;
}

/**
 * Parses the `url` parameter of /capture. Only `{BASE}/mobile?authorization=..&sessionId=..` is
 * accepted: same scheme, host and port as PUBLIC_URL, that path, nothing else — so /capture can
 * never be used to send someone elsewhere.
 */
export function parseCaptureTarget(base: string, raw: string | null | undefined): CaptureTarget | null {
  if (!raw || raw.length > 2048) return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  const origin = new URL(base).origin;
  if (u.origin !== origin || u.pathname !== "/mobile" || u.username || u.password) return null;
  const token = u.searchParams.get("authorization");
  const sessionId = u.searchParams.get("sessionId");
  if (!token || !sessionId || !isUuid(sessionId) || !/^[\w.-]{1,200}$/.test(token)) return null;
  return { url: `${origin}/mobile?authorization=${token}&sessionId=${sessionId}`, token, sessionId };
}

export interface HandoffResult {
  session: SessionDto;
  url: string;
  shortUrl: string;
}

function handoffOf(base: string, token: string, session: IdvSession): HandoffResult {
  return { session: toSessionDto(session), url: handoffUrl(base, token, session.id), shortUrl: shortLinkUrl(base, session.id) };
}

export const deeplinkInput = z.object({
  metadata: metadataSchema.optional(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language tag such as en or pt-BR")
    .max(35)
    .optional(),
  ttl: ttlSchema.optional(),
});

/** POST /api/v1/deeplink: token + session + URL in one call, for an API key. */
export async function createDeeplink(
  db: Database,
  actor: Actor,
  base: string,
  workflowId: string,
  input: z.infer<typeof deeplinkInput>,
  meta: RequestMeta,
  now: Date = new Date(),
): Promise<{ url: string; createdAt: string; expiresAt: string; workflowIds: string[] }> {
  if (actor.type !== "api_key") throw new DomainError("forbidden");
  assertKeyScope(actor, "ephemeral_devices:write");
  const target = { environment: actor.environment as Environment, region: actor.region };
  return db.transaction(async (tx) => {
    const { row, token } = await mintTokenTx(tx, actor, target, input.ttl ?? DEFAULT_TOKEN_TTL, meta, now);
    const session = await startSessionTx(tx, row, actor, { workflowId, metadata: input.metadata, locale: input.locale ?? null }, meta, now);
    return {
      url: handoffUrl(base, token, session.id),
      createdAt: session.createdAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
      workflowIds: [session.workflowId],
    };
  });
}

export const issueHandoffInput = z
  .object({
    userId: z.uuid("must be a tokendesk user id").optional().meta({ title: "User" }),
    externalUserId: z.string().trim().min(1, "is required").max(200, "must be at most 200 characters").optional().meta({ title: "External user id" }),
    environment: z.enum(ENVIRONMENTS, "must be sandbox or production").optional().meta({ title: "Environment" }),
    region: z.string().optional().meta({ title: "Region" }),
    workflowId: z.string().trim().min(1, "must be chosen").max(100, "is not a workflow id").meta({ title: "Workflow" }),
    ttl: ttlSchema.meta({ title: "Lifetime" }),
    reason: z.string().optional(),
  })
  .refine((v) => !!v.userId !== !!v.externalUserId, { message: "give either a user or an external user id", path: ["userId"] })
  .refine((v) => !!v.userId || !!v.environment, { message: "must be chosen for an external user id", path: ["environment"] });
export type IssueHandoffInput = z.input<typeof issueHandoffInput>;

/**
 * Staff issue a handoff for a user (their environment and region) or an external user id (the
 * environment they choose). The same token and session functions as the API; staff give a reason,
 * QA only in sandbox, auditors never.
 */
export async function issueHandoff(
  db: Database,
  actor: Actor,
  base: string,
  input: IssueHandoffInput,
  meta: RequestMeta,
  now: Date = new Date(),
): Promise<HandoffResult> {
  if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  assertStaffCan(actor, "users:issue_tokens");
  const v = parseInput(issueHandoffInput, input);
  const reason = requireReason(v.reason, "issuing the handoff");
  let environment: Environment;
  let region: string;
  let metadata: Metadata;
  if (v.userId) {
    const [user] = await db.select().from(users).where(eq(users.id, v.userId));
    if (!user || user.deletedAt) throw new DomainError("user_not_found", "There is no such user.");
    if (user.disabledAt) throw new DomainError("user_disabled", "This user is disabled; enable them before issuing a handoff.");
    environment = user.environment;
    region = user.region;
    metadata = { externalUserId: user.clientUserId };
  } else {
    environment = v.environment!;
    region = v.region && regions().includes(v.region) ? v.region : regions()[0]!;
    metadata = { externalUserId: v.externalUserId! };
  }
  assertStaffCan(actor, "users:issue_tokens", environment);
  return db.transaction(async (tx) => {
    const { row, token } = await mintTokenTx(tx, actor, { environment, region }, v.ttl, meta, now, reason);
    const session = await startSessionTx(tx, row, actor, { workflowId: v.workflowId, metadata, userId: v.userId ?? null, reason }, meta, now);
    return handoffOf(base, token, session);
  });
}

/**
 * The live handoff of a session, rebuilt for a staff member who may issue in its environment
 * (the console shows the QR again after a reload). Null once the session can no longer be used.
 */
export async function currentHandoffLink(
  db: Executor,
  actor: Actor,
  base: string,
  sessionId: string,
  now: Date = new Date(),
): Promise<{ url: string; shortUrl: string } | null> {
  const [row] = await db
    .select({ session: idvSessions, token: ephemeralTokens })
    .from(idvSessions)
    .innerJoin(ephemeralTokens, eq(ephemeralTokens.sessionId, idvSessions.id))
    .where(eq(idvSessions.id, sessionId));
  if (!row) return null;
  assertStaffCan(actor, "users:issue_tokens", row.session.environment);
  const status = effectiveStatus(row.session, now);
  if ((status !== "created" && status !== "in_progress") || row.token.expiresAt.getTime() <= now.getTime()) return null;
  return { url: handoffUrl(base, tokenFor(row.token.id, row.token.expiresAt), sessionId), shortUrl: shortLinkUrl(base, sessionId) };
}

export type LinkState = { ok: true; url: string; session: IdvSession } | { ok: false; reason: "invalid" | "expired" | "submitted" | "cancelled" };

/** Where /h/<code> leads: the handoff URL while it can be used, otherwise why not. */
export async function resolveShortLink(db: Executor, base: string, code: string, now: Date = new Date()): Promise<LinkState> {
  if (!/^[A-Za-z0-9_-]{22}$/.test(code)) return { ok: false, reason: "invalid" };
  const [row] = await db
    .select({ session: idvSessions, token: ephemeralTokens })
    .from(idvSessions)
    .leftJoin(ephemeralTokens, eq(ephemeralTokens.sessionId, idvSessions.id))
    .where(eq(idvSessions.shortCode, hashSecret(code)));
  if (!row) return { ok: false, reason: "invalid" };
  const status = effectiveStatus(row.session, now);
  if (status === "submitted" || status === "cancelled") return { ok: false, reason: status };
  if (status === "expired" || !row.token || row.token.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: "expired" };
  return { ok: true, url: handoffUrl(base, tokenFor(row.token.id, row.token.expiresAt), row.session.id), session: row.session };
}

/**
 * What the public pages (/capture, /mobile) may show for a token + session id: the session when
 * the token is genuine, live and its own; otherwise a reason in plain words. Never reveals
 * anything about a session the token does not own.
 */
export async function resolveHandoff(
  db: Executor,
  token: string,
  sessionId: string,
  now: Date = new Date(),
): Promise<{ ok: true; session: IdvSession } | { ok: false; reason: "invalid" | "expired" | "submitted" | "cancelled" }> {
  let tokenRow: Awaited<ReturnType<typeof authenticateEphemeralToken>>;
  try {
    tokenRow = await authenticateEphemeralToken(db, token, now);
  } catch (err) {
    // A genuine token past its expiry (or destroyed by the sweeper or a cancel) vs anything else.
    return { ok: false, reason: (err as { code?: string }).code === "token_expired" ? "expired" : "invalid" };
  }
  if (tokenRow.sessionId !== sessionId) return { ok: false, reason: "invalid" };
  const [session] = await db.select().from(idvSessions).where(eq(idvSessions.id, sessionId));
  if (!session) return { ok: false, reason: "invalid" };
  const status = effectiveStatus(session, now);
  if (status === "expired" || status === "submitted" || status === "cancelled") return { ok: false, reason: status };
  return { ok: true, session };
}
