/**
 * IDV sessions as the machine API sees them: minting ephemeral tokens (API key or staff), starting
 * the one session a token may start, reading it, capturing its steps and submitting it. Every
 * change is written with its audit event in one transaction.
 */
import { and, eq, gt, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor, Transaction } from "@/db/client";
import { ephemeralTokens, type IdvSession, idvSessionSteps, idvSessions, type WorkflowStep } from "@/db/schema";
import { insufficientScope } from "@/lib/api-keys/scopes";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { hashSecret } from "@/lib/crypto/keys";
import { DomainError, parseInput } from "@/lib/errors";
import { isUuid, newId } from "@/lib/ids";
import { assertStaffCan } from "@/lib/staff/authorize";
import { idvSessionRef } from "@/lib/webhooks/events";
import { fieldProblem } from "./fields";
import { MAX_IMAGE_BYTES, sniffImage } from "./images";
import {
  authenticateEphemeralToken,
  DEFAULT_TOKEN_TTL,
  type EphemeralTokenRow,
  MAX_TOKEN_TTL,
  MIN_TOKEN_TTL,
  newTokenId,
  shortCodeFor,
  tokenFor,
} from "./tokens";
import { findWorkflow } from "./workflows";

export type Environment = "sandbox" | "production";
export type SessionStatus = IdvSession["status"];

export const ttlSchema = z
  .number("must be a number of seconds")
  .int("must be a whole number of seconds")
  .min(MIN_TOKEN_TTL, `must be at least ${MIN_TOKEN_TTL} seconds`)
  .max(MAX_TOKEN_TTL, `must be at most ${MAX_TOKEN_TTL} seconds (a day)`);

/** Metadata a backend may attach: a flat object of short scalars, externalUserId a string. */
export const metadataSchema = z
  .record(
    z.string().min(1).max(64, "keys must be at most 64 characters"),
    z.union(
      [z.string().max(500, "values must be at most 500 characters"), z.number(), z.boolean(), z.null()],
      "values must be strings, numbers, booleans or null",
    ),
    "must be an object",
  )
  .refine((m) => Object.keys(m).length <= 50, "may have at most 50 keys")
  .refine((m) => m.externalUserId === undefined || (typeof m.externalUserId === "string" && m.externalUserId.trim() !== ""), {
    message: "externalUserId must be a non-empty string",
    path: ["externalUserId"],
  });
export type Metadata = z.infer<typeof metadataSchema>;

export const localeSchema = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language tag such as en or pt-BR")
  .max(35);

/** The session as the contract shows it. */
export interface SessionDto {
  id: string;
  workflowId: string;
  status: SessionStatus;
  metadata: Record<string, unknown>;
  createdAt: string;
  expiresAt: string;
}

/** A session past its expiry is expired even before the sweeper has marked it. */
export function effectiveStatus(s: Pick<IdvSession, "status" | "expiresAt">, now: Date = new Date()): SessionStatus {
  if ((s.status === "created" || s.status === "in_progress") && s.expiresAt.getTime() <= now.getTime()) return "expired";
  return s.status;
}

export function toSessionDto(s: IdvSession, now: Date = new Date()): SessionDto {
  return {
    id: s.id,
    workflowId: s.workflowId,
    status: effectiveStatus(s, now),
    metadata: s.metadata,
    createdAt: s.createdAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
  };
}

export interface SessionStepState {
  id: string;
  type: WorkflowStep["type"];
  label: string;
  fields?: WorkflowStep["fields"];
  completed: boolean;
}

/** What GET /api/sessions/{id} answers: the session plus its progress through the workflow. */
export interface SessionDetailDto extends SessionDto {
  submittedAt: string | null;
  steps: SessionStepState[];
}

const tokenActor = (t: EphemeralTokenRow): Actor => ({ type: "ephemeral_token", id: t.id, name: null });

/** Whole seconds, so a token's embedded expiry and its row agree exactly. */
function expiryAfter(now: Date, ttlSeconds: number): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + ttlSeconds * 1000);
}

export interface MintTarget {
  environment: Environment;
  region: string;
}

/** Who may mint for which environment: a key with the scope (its own environment), or staff. */
function mintTargetOf(actor: Actor, staffTarget?: MintTarget): MintTarget {
  if (actor.type === "api_key") {
    if (!actor.scopes.includes("ephemeral_devices:write")) {
      throw insufficientScope("ephemeral_devices:write");
    }
    return { environment: actor.environment as Environment, region: actor.region };
  }
  if (actor.type === "staff" || actor.type === "system") {
    if (!staffTarget) throw new DomainError("validation_failed", "Choose the environment of the handoff.", { field: "environment" });
    assertStaffCan(actor, "users:issue_tokens", staffTarget.environment);
    return staffTarget;
  }
  throw new DomainError("forbidden");
}

/** Inserts a token row and its audit event in `tx`; returns the row and the token string. */
export async function mintTokenTx(
  tx: Executor,
  actor: Actor,
  target: MintTarget,
  ttlSeconds: number,
  meta: RequestMeta,
  now: Date,
  reason: string | null = null,
): Promise<{ row: EphemeralTokenRow; token: string }> {
  const id = newTokenId();
  const expiresAt = expiryAfter(now, ttlSeconds);
  const token = tokenFor(id, expiresAt);
  const [row] = await tx
    .insert(ephemeralTokens)
    .values({
      id,
      tokenHash: hashSecret(token),
      environment: target.environment,
      region: target.region,
      issuedByType: actor.type === "api_key" ? "api_key" : actor.type,
      issuedById: actor.id,
      expiresAt,
      createdAt: now,
    })
    .returning();
  await recordAudit(
    tx,
    {
      actor,
      action: "ephemeral_token.minted",
      target: { type: "ephemeral_token", id },
      environment: target.environment,
      reason,
      details: { ttlSeconds, region: target.region, expiresAt: expiresAt.toISOString() },
      occurredAt: now,
    },
    meta,
  );
  return { row: row!, token };
}

/** POST /api/device/ephemeral: a fresh token for the key's environment. */
export async function mintEphemeralToken(
  db: Database,
  actor: Actor,
  input: { ttl?: number; environment?: Environment; region?: string },
  meta: RequestMeta,
  now: Date = new Date(),
): Promise<{ authorization: string; expiresAt: string; tokenId: string }> {
  const { ttl } = parseInput(z.object({ ttl: ttlSchema }), { ttl: input.ttl ?? DEFAULT_TOKEN_TTL });
  const target = mintTargetOf(actor, input.environment ? { environment: input.environment, region: input.region ?? "us" } : undefined);
  const { row, token } = await db.transaction((tx) => mintTokenTx(tx, actor, target, ttl, meta, now));
  return { authorization: token, expiresAt: row.expiresAt.toISOString(), tokenId: row.id };
}

export interface StartSessionInput {
  workflowId: string;
  metadata?: Metadata;
  locale?: string | null;
  userId?: string | null;
  reason?: string | null;
}

/**
 * Starts the one session `token` may start, in `tx`. Claiming the token is a single
 * `UPDATE ... WHERE session_id IS NULL`, so two concurrent starts cannot both win.
 */
export async function startSessionTx(
  tx: Transaction,
  token: EphemeralTokenRow,
  actor: Actor,
  input: StartSessionInput,
  meta: RequestMeta,
  now: Date,
): Promise<IdvSession> {
  const workflow = await findWorkflow(tx, input.workflowId);
  if (!workflow) throw new DomainError("workflow_not_found", `There is no workflow ${JSON.stringify(input.workflowId)}.`);
  const sessionId = newId();
  const claimed = await tx
    .update(ephemeralTokens)
    .set({ sessionId })
    .where(and(eq(ephemeralTokens.id, token.id), sql`${ephemeralTokens.sessionId} is null`))
    .returning({ id: ephemeralTokens.id });
  if (claimed.length === 0) throw new DomainError("session_already_started", "This token has already started a session; mint a new token for a new session.");
  const metadata = input.metadata ?? {};
  const externalUserId = typeof metadata.externalUserId === "string" ? metadata.externalUserId : null;
  const [session] = await tx
    .insert(idvSessions)
    .values({
      id: sessionId,
      workflowId: workflow.id,
      environment: token.environment,
      region: token.region,
      status: "created",
      metadata,
      externalUserId,
      userId: input.userId ?? null,
      locale: input.locale ?? null,
      shortCode: hashSecret(shortCodeFor(sessionId)),
      issuedByType: token.issuedByType,
      issuedById: token.issuedById,
      reason: input.reason ?? null,
      expiresAt: token.expiresAt,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  await recordAudit(
    tx,
    {
      actor,
      action: "idv_session.started",
      target: { type: "idv_session", id: sessionId },
      environment: token.environment,
      reason: input.reason ?? null,
      details: { workflowId: workflow.id, externalUserId, userId: input.userId ?? null, tokenId: token.id },
      occurredAt: now,
      webhook: { type: "idv_session.started", data: idvSessionRef(session!) },
    },
    meta,
  );
  return session!;
}

/** POST /api/sessions?workflowId=: the token starts its session. */
export async function startSession(
  db: Database,
  presentedToken: string | null,
  input: StartSessionInput,
  meta: RequestMeta,
  now: Date = new Date(),
): Promise<SessionDto> {
  const token = await authenticateEphemeralToken(db, presentedToken, now);
  const session = await db.transaction((tx) =>
    startSessionTx(tx, token, tokenActor(token), { workflowId: input.workflowId, metadata: input.metadata, locale: input.locale }, meta, now),
  );
  return toSessionDto(session, now);
}

const sessionNotFound = () => new DomainError("session_not_found", "No such session.");

async function loadSession(db: Executor, id: string): Promise<IdvSession | null> {
  if (!isUuid(id)) return null;
  const [row] = await db.select().from(idvSessions).where(eq(idvSessions.id, id));
  return row ?? null;
}

/**
 * The session a token may touch: only its own. Another session, whether it exists or not, gets
 * the same 404, so a token cannot probe for other sessions.
 */
async function ownSession(
  db: Executor,
  presentedToken: string | null,
  sessionId: string,
  now: Date,
): Promise<{ token: EphemeralTokenRow; session: IdvSession }> {
  const token = await authenticateEphemeralToken(db, presentedToken, now);
  if (!token.sessionId || token.sessionId !== sessionId) throw sessionNotFound();
  const session = await loadSession(db, sessionId);
  if (!session) throw sessionNotFound();
  return { token, session };
}

export async function sessionDetail(db: Executor, session: IdvSession, now: Date = new Date()): Promise<SessionDetailDto> {
  const workflow = await findWorkflow(db, session.workflowId);
  const done = await db
    .select({ stepId: idvSessionSteps.stepId, submittedAt: idvSessionSteps.submittedAt })
    .from(idvSessionSteps)
    .where(eq(idvSessionSteps.sessionId, session.id));
  const completed = new Set(done.map((d) => d.stepId));
  return {
    ...toSessionDto(session, now),
    submittedAt: session.submittedAt?.toISOString() ?? null,
    steps: (workflow?.steps ?? []).map((s) => ({
      id: s.id,
      type: s.type,
      label: s.label,
      ...(s.fields ? { fields: s.fields } : {}),
      completed: completed.has(s.id),
    })),
  };
}

/** GET /api/sessions/{id} with the session's own token. */
export async function readSessionWithToken(db: Executor, presentedToken: string | null, sessionId: string, now: Date = new Date()): Promise<SessionDetailDto> {
  const { session } = await ownSession(db, presentedToken, sessionId, now);
  return sessionDetail(db, session, now);
}

/** GET /api/sessions/{id} with a `sessions:read` key: sessions of the key's environment and region. */
export async function readSessionWithKey(db: Executor, actor: Actor, sessionId: string, now: Date = new Date()): Promise<SessionDetailDto> {
  if (actor.type !== "api_key") throw new DomainError("forbidden");
  if (!actor.scopes.includes("sessions:read")) {
    throw insufficientScope("sessions:read");
  }
  const session = await loadSession(db, sessionId);
  if (!session || session.environment !== actor.environment || session.region !== actor.region) throw sessionNotFound();
  return sessionDetail(db, session, now);
}

export type StepInput = { kind: "fields"; fields: Record<string, unknown> } | { kind: "image"; bytes: Uint8Array };

/** Validates form fields against a form step's definition; names the first wrong field. */
export function validateFormFields(step: WorkflowStep, raw: Record<string, unknown>, now: Date = new Date()): Record<string, string> {
  const defs = step.fields ?? [];
  const known = new Set(defs.map((f) => f.name));
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length)
    throw new DomainError("validation_failed", `Unknown field ${unknown.join(", ")}; this step asks for ${defs.map((f) => f.name).join(", ")}.`, {
      field: unknown[0],
    });
  const out: Record<string, string> = {};
  for (const f of defs) {
    const value = raw[f.name];
    if (value !== undefined && value !== null && typeof value !== "string")
      throw new DomainError("validation_failed", `${f.label} must be text.`, { field: f.name });
    const v = (value ?? "").trim();
    if (!v) {
      if (f.required) throw new DomainError("validation_failed", `${f.label} is required.`, { field: f.name });
      continue;
    }
    const problem = fieldProblem(f, v, now);
    if (problem) throw new DomainError("validation_failed", problem, { field: f.name });
    out[f.name] = v;
  }
  return out;
}

const sessionClosed = (status: SessionStatus) =>
  new DomainError("session_closed", status === "submitted" ? "This session has already been submitted." : "This session has ended and accepts nothing more.", {
    status,
  });

/**
 * POST /api/sessions/{id}/steps/{step}: captures (or retakes) one step. `input` may be a reader
 * (the adapter's body reader): it is called only once the token owns the session and the step
 * exists, so an upload with a bogus token is refused without its body being read (issue 12, pt 2).
 */
export async function submitStep(
  db: Database,
  presentedToken: string | null,
  sessionId: string,
  stepId: string,
  stepInput: StepInput | (() => Promise<StepInput>),
  meta: RequestMeta,
  now: Date = new Date(),
): Promise<SessionDetailDto> {
  void meta; // steps are progress, not audited events; the session's start and submit are.
  const { session } = await ownSession(db, presentedToken, sessionId, now);
  const workflow = await findWorkflow(db, session.workflowId);
  const step = workflow?.steps.find((s) => s.id === stepId);
  if (!step) throw new DomainError("step_not_found", `This workflow has no step ${JSON.stringify(stepId)}.`);
  const input = typeof stepInput === "function" ? await stepInput() : stepInput;

  let values: { data: Record<string, unknown>; imageContentType: string | null; image: Buffer | null };
  if (step.type === "form") {
    if (input.kind !== "fields") throw new DomainError("validation_failed", `${step.label} takes form fields, not an image.`);
    values = { data: validateFormFields(step, input.fields, now), imageContentType: null, image: null };
  } else {
    if (input.kind !== "image") throw new DomainError("unsupported_media_type", `${step.label} needs a photo, sent as multipart/form-data field "image".`);
    if (input.bytes.byteLength === 0) throw new DomainError("validation_failed", "The photo is empty.", { field: "image" });
    if (input.bytes.byteLength > MAX_IMAGE_BYTES) throw new DomainError("payload_too_large", "The photo is larger than 10 MiB.");
    const type = sniffImage(input.bytes);
    if (!type) throw new DomainError("unsupported_media_type", "The file is not a JPEG, PNG, WebP or HEIC image.");
    values = { data: { size: input.bytes.byteLength }, imageContentType: type, image: Buffer.from(input.bytes) };
  }

  await db.transaction(async (tx) => {
    // The status UPDATE locks the session row, so a concurrent submit sees this step or refuses it.
    const [open] = await tx
      .update(idvSessions)
      .set({ status: "in_progress", updatedAt: now })
      .where(and(eq(idvSessions.id, session.id), inArray(idvSessions.status, ["created", "in_progress"]), gt(idvSessions.expiresAt, now)))
      .returning({ id: idvSessions.id });
    if (!open) throw sessionClosed(effectiveStatus(session, now) === "expired" ? "expired" : session.status);
    await tx
      .insert(idvSessionSteps)
      .values({ sessionId: session.id, stepId: step.id, ...values, submittedAt: now })
      .onConflictDoUpdate({ target: [idvSessionSteps.sessionId, idvSessionSteps.stepId], set: { ...values, submittedAt: now } });
  });
  const fresh = (await loadSession(db, session.id))!;
  return sessionDetail(db, fresh, now);
}

/** POST /api/sessions/{id}/submit: every step captured → submitted, once. */
export async function submitSession(
  db: Database,
  presentedToken: string | null,
  sessionId: string,
  meta: RequestMeta,
  now: Date = new Date(),
): Promise<SessionDetailDto> {
  const { token, session } = await ownSession(db, presentedToken, sessionId, now);
  const workflow = await findWorkflow(db, session.workflowId);
  const submitted = await db.transaction(async (tx) => {
    const [locked] = await tx.select().from(idvSessions).where(eq(idvSessions.id, session.id)).for("update");
    if (!locked || !["created", "in_progress"].includes(effectiveStatus(locked, now))) throw sessionClosed(effectiveStatus(locked ?? session, now));
    const done = await tx.select({ stepId: idvSessionSteps.stepId }).from(idvSessionSteps).where(eq(idvSessionSteps.sessionId, session.id));
    const have = new Set(done.map((d) => d.stepId));
    const missing = (workflow?.steps ?? []).filter((s) => !have.has(s.id));
    if (missing.length) {
      throw new DomainError("steps_incomplete", `Complete every step first: ${missing.map((s) => s.label).join(", ")}.`, {
        missing_steps: missing.map((s) => s.id),
      });
    }
    const [row] = await tx.update(idvSessions).set({ status: "submitted", submittedAt: now, updatedAt: now }).where(eq(idvSessions.id, session.id)).returning();
    await recordAudit(
      tx,
      {
        actor: tokenActor(token),
        action: "idv_session.submitted",
        target: { type: "idv_session", id: session.id },
        environment: session.environment,
        details: { workflowId: session.workflowId, steps: [...have] },
        occurredAt: now,
        webhook: { type: "idv_session.submitted", data: { ...idvSessionRef(row!), submitted_at: now.toISOString(), steps: [...have] } },
      },
      meta,
    );
    return row!;
  });
  return sessionDetail(db, submitted, now);
}
