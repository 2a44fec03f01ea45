/**
 * Appending to the audit log. Every domain operation calls `recordAudit` with its own transaction,
 * so the event exists exactly when the change does. Each row carries an HMAC of its content
 * (keyed by TOKENDESK_SECRET); `seal.ts` later binds finished rows into a chain of seals.
 *
 * A change that also sends a webhook event attaches it to its audit event (`webhook`): the one
 * statement that writes the audit rows writes the outbox rows too (lib/webhooks/outbox.ts), so the
 * event is in the same transaction and costs the operation no statement of its own.
 */
import { createHmac } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";
import type { AuditEventRow } from "@/db/schema";
import type { Actor, RequestMeta } from "@/lib/context";
import { derivedKey } from "@/lib/crypto/keys";
import { isEnvironment } from "@/lib/environments";
import { newId } from "@/lib/ids";
import { countAuditEvent } from "@/lib/metrics";
import type { WebhookEvent, WebhookEventInput } from "@/lib/webhooks/events";
import { outboxInsert } from "@/lib/webhooks/outbox";
import { type AuditAction, type AuditOutcome, isAuditAction } from "./actions";

export interface AuditInput {
  actor: Actor;
  action: AuditAction;
  target?: { type: string; id: string | null } | null;
  environment?: string | null;
  outcome?: AuditOutcome;
  reason?: string | null;
  details?: Record<string, unknown>;
  /** Defaults to now; injectable for tests and the data generator. */
  occurredAt?: Date;
  /**
   * The webhook event this change sends (lib/webhooks/events.ts), in the audit event's environment
   * (which must then be set) and with its time. Written by the audit insert's statement.
   */
  webhook?: WebhookEventInput | null;
}

/** Names that would mean a secret is about to be written into the log. */
const SECRET_FIELD = /^(password|secret|token|key|api_key|sign_in_token|refresh_token|access_token|authorization|instance_key|jwt)$/i;

/** Throws if any field name at any depth names a secret (also guards webhook payloads). */
export function assertNoSecrets(value: unknown, pathSoFar = "details", where = "the audit log"): void {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_FIELD.test(k)) throw new Error(`Refusing to write "${pathSoFar}.${k}" to ${where}: it names a secret.`);
      assertNoSecrets(v, `${pathSoFar}.${k}`, where);
    }
  }
}

/** JSON with object keys sorted at every level: jsonb does not keep key order, the HMAC must. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

type HashedFields = Omit<AuditEventRow, "txid" | "rowHmac">;

export function auditRowHmac(row: HashedFields): string {
  const material = canonicalJson([
    row.id,
    row.occurredAt.toISOString(),
    row.actorType,
    row.actorId,
    row.actorName,
    row.action,
    row.targetType,
    row.targetId,
    row.environment,
    row.outcome,
    row.reason,
    row.requestId,
    row.ip,
    row.userAgent,
    row.details,
  ]);
  return createHmac("sha256", derivedKey("audit")).update(material).digest("base64url");
}

type AuditRow = HashedFields & { rowHmac: string };

export function buildAuditRow(input: AuditInput, meta: RequestMeta): AuditRow {
  if (!isAuditAction(input.action)) throw new Error(`Unknown audit action "${String(input.action)}".`);
  const details = input.details ?? {};
  assertNoSecrets(details);
  if (input.webhook) assertNoSecrets(input.webhook.data, "data", "a webhook payload");
  const row: HashedFields = {
    id: newId(),
    occurredAt: new Date((input.occurredAt ?? new Date()).getTime()),
    actorType: input.actor.type,
    actorId: input.actor.id,
    actorName: input.actor.name,
    action: input.action,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    environment: input.environment ?? null,
    outcome: input.outcome ?? "success",
    reason: input.reason ?? null,
    requestId: meta.requestId,
    ip: meta.ip,
    userAgent: meta.userAgent ? meta.userAgent.slice(0, 512) : null,
    details: JSON.parse(canonicalJson(details)) as Record<string, unknown>,
  };
  return { ...row, rowHmac: auditRowHmac(row) };
}

const AUDIT_COLUMNS = sql.raw(
  "id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, environment, outcome, reason, request_id, ip, user_agent, details, row_hmac",
);

/** One row's values, in AUDIT_COLUMNS' order. */
function auditValues(r: AuditRow): SQL {
  return sql`(${r.id}::uuid, ${r.occurredAt.toISOString()}::timestamptz, ${r.actorType}, ${r.actorId}, ${r.actorName}, ${r.action},
           ${r.targetType}, ${r.targetId}, ${r.environment}, ${r.outcome}, ${r.reason}, ${r.requestId}, ${r.ip}, ${r.userAgent},
           ${JSON.stringify(r.details)}::jsonb, ${r.rowHmac})`;
}

/**
 * One statement for any number of events: the audit INSERT, and when some of them send a webhook
 * event, the outbox INSERT as the main statement after it (`with a as (insert into audit_events …)
 * insert into webhook_deliveries …` — PostgreSQL runs a data-modifying CTE exactly once, to
 * completion, whether or not its output is read). An `sql` template rather than the query builder:
 * this runs in every audited request, and the builder cost more CPU than the statement (see
 * db/rows.ts). `txid` is left to its default (the writing transaction's id).
 */
async function insertAuditRows(tx: Executor, rows: AuditRow[], webhooks: WebhookEvent[], alongside: SQL | null): Promise<void> {
  const audit = sql`insert into audit_events (${AUDIT_COLUMNS}) values ${sql.join(rows.map(auditValues), sql`, `)}`;
  const ctes = [...(alongside ? [alongside] : []), ...(webhooks.length ? [sql`a as (${audit})`] : [])];
  const main = webhooks.length ? outboxInsert(webhooks) : audit;
  await queryRows(
    tx,
    ctes.length ? sql`with ${sql.join(ctes, sql`, `)} ${main}` : main,
    // Prepared: its text varies only with the number of rows (one to three events an operation),
    // whether one event or several go to the outbox, and the caller's fixed `alongside` writes.
    { prepare: true },
  );
  // Counted when written in its transaction (a transaction that later rolls back was still counted).
  for (const r of rows) countAuditEvent(r);
}

/**
 * One event's audit INSERT as part of a caller's statement, writing the row only `where` the
 * condition holds: for an operation that makes its change and its audit event in one autocommit
 * statement (`with t as (insert …), a as (${insert}) select … from t`, lib/sign-in-tokens), so
 * the event exists exactly when the change does without a transaction around them. The caller
 * calls `written()` once the statement says the change was made (the metric counts written events).
 * No webhook event: the outbox's statement would have to join it (use `recordAudit` for those).
 */
export function guardedAuditInsert(input: AuditInput, meta: RequestMeta, where: SQL): { id: string; insert: SQL; written: () => void } {
  if (input.webhook) throw new Error(`guardedAuditInsert writes no webhook event ("${input.action}" sends one): use recordAudit.`);
  const row = buildAuditRow(input, meta);
  return {
    id: row.id,
    // `select … from (values …)`: the same row as recordAudit's, typed by the same casts.
    insert: sql`insert into audit_events (${AUDIT_COLUMNS}) select * from (values ${auditValues(row)}) v where ${where}`,
    written: () => countAuditEvent(row),
  };
}

function buildRows(inputs: AuditInput[], meta: RequestMeta): { rows: AuditRow[]; webhooks: WebhookEvent[] } {
  const rows: AuditRow[] = [];
  const webhooks: WebhookEvent[] = [];
  for (const input of inputs) {
    const row = buildAuditRow(input, meta);
    rows.push(row);
    if (!input.webhook) continue;
    if (!isEnvironment(row.environment)) throw new Error(`A webhook event needs its audit event's environment ("${input.action}" has none).`);
    webhooks.push({ ...input.webhook, environment: row.environment, occurredAt: row.occurredAt } as WebhookEvent);
  }
  return { rows, webhooks };
}

/** Writes one audit event (and the webhook event it carries) in the caller's transaction and returns its id. */
export async function recordAudit(tx: Executor, input: AuditInput, meta: RequestMeta): Promise<string> {
  const { rows, webhooks } = buildRows([input], meta);
  await insertAuditRows(tx, rows, webhooks, null);
  return rows[0]!.id;
}

/**
 * Several events of one operation (and the webhook events they carry) in one statement, in the
 * caller's transaction. `alongside`: the operation's own last writes as data-modifying CTEs of that
 * statement (`name as (insert …), …`, fixed text), so they cost no statement of their own; they run
 * exactly once whether or not anything reads them, and a failing one fails the statement.
 */
export async function recordAudits(tx: Executor, inputs: AuditInput[], meta: RequestMeta, opts: { alongside?: SQL } = {}): Promise<string[]> {
  const { rows, webhooks } = buildRows(inputs, meta);
  if (rows.length) await insertAuditRows(tx, rows, webhooks, opts.alongside ?? null);
  return rows.map((r) => r.id);
}
