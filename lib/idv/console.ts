/**
 * What the staff console reads and does with handoffs: the recent list (filters, keyset pages on
 * (created_at desc, id desc)), one session with what was captured, its images, and cancel.
 * Staff see only environments their role may see (QA: sandbox).
 */
import { and, desc, eq, gt, inArray, lt, lte, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { ephemeralTokens, type IdvSession, idvSessionSteps, idvSessions, users, workflows } from "@/db/schema";
import { type ActorName, actorNames } from "@/lib/audit/names";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { ENVIRONMENTS } from "@/lib/environments";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { assertStaffCan } from "@/lib/staff/authorize";
import { visibleEnvironments } from "@/lib/staff/rbac";
import { requireReason } from "@/lib/staff/reason";
import { idvSessionRef } from "@/lib/webhooks/events";
import { effectiveStatus, type SessionStatus } from "./sessions";

export const SESSION_STATUSES = ["created", "in_progress", "submitted", "expired", "cancelled"] as const;

export const handoffFilterSchema = z.object({
  status: z.enum(SESSION_STATUSES, "must be a session status").optional(),
  workflowId: z.string().trim().max(100).optional(),
  environment: z.enum(ENVIRONMENTS, "must be sandbox or production").optional(),
});
export type HandoffFilter = z.infer<typeof handoffFilterSchema>;

export function parseHandoffFilter(raw: Record<string, string | undefined>): HandoffFilter {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (v?.trim() && k in handoffFilterSchema.shape) clean[k] = v;
  return parseInput(handoffFilterSchema, clean, { code: "invalid_filter", subject: (field) => `Filter "${field}"` });
}

export interface HandoffRow {
  id: string;
  workflowId: string;
  workflowName: string | null;
  environment: string;
  region: string;
  status: SessionStatus;
  externalUserId: string | null;
  userId: string | null;
  /** The tokendesk user it was issued for, by name (null without one, or for an id no longer known). */
  person: HandoffPerson | null;
  issuedByType: string;
  issuedById: string | null;
  /** Who issued it, by name (a staff member's name and email, a key's name and prefix); null for the system or an id no longer known. */
  issuedByName: ActorName | null;
  reason: string | null;
  createdAt: string;
  expiresAt: string;
  submittedAt: string | null;
}

export interface HandoffPerson {
  name: string | null;
  clientUserId: string;
  email: string | null;
}

const personColumns = { name: users.name, clientUserId: users.clientUserId, email: users.email };
const personOf = (p: { name: string | null; clientUserId: string | null; email: string | null } | null | undefined): HandoffPerson | null =>
  p?.clientUserId ? { name: p.name, clientUserId: p.clientUserId, email: p.email } : null;

function toRow(s: IdvSession, workflowName: string | null, now: Date, names?: Map<string, ActorName>, person: HandoffPerson | null = null): HandoffRow {
  return {
    id: s.id,
    workflowId: s.workflowId,
    workflowName,
    environment: s.environment,
    region: s.region,
    status: effectiveStatus(s, now),
    externalUserId: s.externalUserId,
    userId: s.userId,
    person,
    issuedByType: s.issuedByType,
    issuedById: s.issuedById,
    issuedByName: names?.get(`${s.issuedByType}:${s.issuedById}`) ?? null,
    reason: s.reason,
    createdAt: s.createdAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
    submittedAt: s.submittedAt?.toISOString() ?? null,
  };
}

export interface HandoffCursor {
  createdAt: string;
  id: string;
}
export function encodeHandoffCursor(c: HandoffCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString("base64url");
}
export function decodeHandoffCursor(raw: string | null | undefined): HandoffCursor | null {
  if (!raw) return null;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as [string, string];
    if (Number.isNaN(Date.parse(createdAt)) || !isUuid(id)) throw new Error();
    return { createdAt, id };
  } catch {
    throw new DomainError("validation_failed", "The page cursor is not valid; start from the first page.");
  }
}

export const MAX_HANDOFF_PAGE = 100;

function environmentsFor(actor: Actor): string[] {
  return actor.type === "staff" ? visibleEnvironments(actor.role) : [...ENVIRONMENTS];
}

export async function listHandoffs(
  db: Executor,
  actor: Actor,
  filter: HandoffFilter,
  opts: { cursor?: HandoffCursor | null; limit?: number; now?: Date } = {},
): Promise<{ handoffs: HandoffRow[]; nextCursor: string | null }> {
  assertStaffCan(actor, "users:read", filter.environment);
  const now = opts.now ?? new Date();
  const limit = Math.min(Math.max(opts.limit ?? 25, 1), MAX_HANDOFF_PAGE);
  const where: SQL[] = [inArray(idvSessions.environment, environmentsFor(actor) as Array<"sandbox" | "production">)];
  if (filter.environment) where.push(eq(idvSessions.environment, filter.environment));
  if (filter.workflowId) where.push(eq(idvSessions.workflowId, filter.workflowId));
  if (filter.status) {
    // "expired" includes sessions past their expiry that the sweeper has not marked yet.
    if (filter.status === "expired") {
      where.push(or(eq(idvSessions.status, "expired"), and(inArray(idvSessions.status, ["created", "in_progress"]), lte(idvSessions.expiresAt, now)))!);
    } else if (filter.status === "created" || filter.status === "in_progress") {
      where.push(eq(idvSessions.status, filter.status), gt(idvSessions.expiresAt, now));
    } else where.push(eq(idvSessions.status, filter.status));
  }
  if (opts.cursor) {
    const at = new Date(opts.cursor.createdAt);
    where.push(or(lt(idvSessions.createdAt, at), and(eq(idvSessions.createdAt, at), lt(idvSessions.id, opts.cursor.id)))!);
  }
  const rows = await db
    .select({ session: idvSessions, workflowName: workflows.name, person: personColumns })
    .from(idvSessions)
    .leftJoin(workflows, eq(workflows.id, idvSessions.workflowId))
    .leftJoin(users, eq(users.id, idvSessions.userId))
    .where(and(...where))
    .orderBy(desc(idvSessions.createdAt), desc(idvSessions.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const names = await actorNames(
    db,
    page.map((r) => ({ type: r.session.issuedByType, id: r.session.issuedById })),
  );
  return {
    handoffs: page.map((r) => toRow(r.session, r.workflowName, now, names, personOf(r.person))),
    nextCursor: rows.length > limit && last ? encodeHandoffCursor({ createdAt: last.session.createdAt.toISOString(), id: last.session.id }) : null,
  };
}

export interface CapturedStep {
  id: string;
  type: "document" | "selfie" | "form";
  label: string;
  completed: boolean;
  submittedAt: string | null;
  fields: Array<{ name: string; label: string; value: string }> | null;
  image: { contentType: string; size: number } | null;
}

export interface HandoffDetail extends HandoffRow {
  metadata: Record<string, unknown>;
  locale: string | null;
  steps: CapturedStep[];
}

async function visibleSession(db: Executor, actor: Actor, id: string): Promise<IdvSession> {
  assertStaffCan(actor, "users:read");
  if (!isUuid(id)) throw new DomainError("session_not_found", "No such handoff.");
  const [s] = await db.select().from(idvSessions).where(eq(idvSessions.id, id));
  if (!s || !environmentsFor(actor).includes(s.environment)) throw new DomainError("session_not_found", "No such handoff.");
  return s;
}

/** One handoff with what was captured (form values, image sizes; images through `handoffImage`). */
export async function getHandoff(db: Executor, actor: Actor, id: string, now: Date = new Date()): Promise<HandoffDetail> {
  const s = await visibleSession(db, actor, id);
  const [[wf], [person]] = await Promise.all([
    db.select().from(workflows).where(eq(workflows.id, s.workflowId)),
    s.userId ? db.select(personColumns).from(users).where(eq(users.id, s.userId)) : Promise.resolve([]),
  ]);
  const captured = await db
    .select({
      stepId: idvSessionSteps.stepId,
      data: idvSessionSteps.data,
      imageContentType: idvSessionSteps.imageContentType,
      imageSize: sql<number | null>`octet_length(${idvSessionSteps.image})`,
      submittedAt: idvSessionSteps.submittedAt,
    })
    .from(idvSessionSteps)
    .where(eq(idvSessionSteps.sessionId, s.id));
  const byId = new Map(captured.map((c) => [c.stepId, c]));
  const steps: CapturedStep[] = (wf?.steps ?? []).map((step) => {
    const c = byId.get(step.id);
    return {
      id: step.id,
      type: step.type,
      label: step.label,
      completed: !!c,
      submittedAt: c?.submittedAt.toISOString() ?? null,
      fields:
        step.type === "form" && c
          ? (step.fields ?? []).map((f) => ({ name: f.name, label: f.label, value: typeof c.data[f.name] === "string" ? (c.data[f.name] as string) : "" }))
          : null,
      image: c?.imageContentType ? { contentType: c.imageContentType, size: Number(c.imageSize ?? 0) } : null,
    };
  });
  const names = await actorNames(db, [{ type: s.issuedByType, id: s.issuedById }]);
  return { ...toRow(s, wf?.name ?? null, now, names, personOf(person)), metadata: s.metadata, locale: s.locale, steps };
}

/** The bytes of a captured image, for staff only (never a public URL). */
export async function handoffImage(db: Executor, actor: Actor, sessionId: string, stepId: string): Promise<{ contentType: string; bytes: Buffer }> {
  const s = await visibleSession(db, actor, sessionId);
  const [row] = await db
    .select({ image: idvSessionSteps.image, contentType: idvSessionSteps.imageContentType })
    .from(idvSessionSteps)
    .where(and(eq(idvSessionSteps.sessionId, s.id), eq(idvSessionSteps.stepId, stepId)));
  if (!row?.image || !row.contentType) throw new DomainError("image_not_found", "This step has no image.");
  return { contentType: row.contentType, bytes: row.image };
}

/**
 * Cancel = expire now: the session is marked cancelled and its token destroyed in one
 * transaction, so the link stops working at once. A submitted session cannot be cancelled.
 */
export async function cancelHandoff(db: Database, actor: Actor, id: string, reason: string, meta: RequestMeta, now: Date = new Date()): Promise<HandoffRow> {
  if (actor.type !== "staff" && actor.type !== "system") throw new DomainError("forbidden");
  const s = await visibleSession(db, actor, id);
  assertStaffCan(actor, "users:issue_tokens", s.environment);
  const why = requireReason(reason, "cancelling the handoff");
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(idvSessions)
      .set({ status: "cancelled", expiresAt: now, updatedAt: now })
      .where(and(eq(idvSessions.id, s.id), inArray(idvSessions.status, ["created", "in_progress"])))
      .returning();
    if (!row) throw new DomainError("session_closed", `This handoff is already ${effectiveStatus(s, now).replace("_", " ")}.`);
    await tx.delete(ephemeralTokens).where(eq(ephemeralTokens.sessionId, s.id));
    await recordAudit(
      tx,
      {
        actor,
        action: "idv_session.cancelled",
        target: { type: "idv_session", id: s.id },
        environment: s.environment,
        reason: why.slice(0, 500),
        details: { workflowId: s.workflowId, previousStatus: s.status },
        occurredAt: now,
        webhook: { type: "idv_session.cancelled", data: { ...idvSessionRef(row), previous_status: s.status } },
      },
      meta,
    );
    const [wf] = await tx.select({ name: workflows.name }).from(workflows).where(eq(workflows.id, s.workflowId));
    return toRow(row, wf?.name ?? null, now);
  });
}
