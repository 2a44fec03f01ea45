/**
 * Appending to the audit log. Every domain operation calls `recordAudit` with its own transaction,
 * so the event exists exactly when the change does. Each row carries an HMAC of its content
 * (keyed by TOKENDESK_SECRET); `seal.ts` later binds finished rows into a chain of seals.
 *
 * A change that also sends a webhook event attaches it to its audit event (`webhook`): the audit row
 * carries the event (its `webhook` column), so the event is written in the change's transaction by
 * the same INSERT, and is fanned out to the endpoints' deliveries after commit (lib/webhooks/outbox.ts).
 */
import { createHmac } from "node:crypto";
import { type Placeholder, type Query, type SQL, sql } from "drizzle-orm";
import { boundValue, compileStatement, type Executor, queryRows } from "@/db/client";
import type { AuditEventRow, AuditWebhook } from "@/db/schema";
import type { Actor, RequestMeta } from "@/lib/context";
import { derivedKey } from "@/lib/crypto/keys";
import { isEnvironment } from "@/lib/environments";
import { newId } from "@/lib/ids";
import { countAuditEvent } from "@/lib/metrics";
import type { WebhookEventInput } from "@/lib/webhooks/events";
import { auditWebhook } from "@/lib/webhooks/outbox";
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
   * (which must then be set) and with its time. Stored in the audit row, fanned out after commit.
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

/**
 * JSON with object keys sorted at every level: jsonb does not keep key order, the HMAC must. Written
 * as loops (every audited request runs it over its details and row): the same text as
 * `[${value.map(canonicalJson)}]` and `{${Object.entries(…).filter(defined).sort(by key).map(…)}}`,
 * array holes included (empty between the commas), keys in UTF-16 code unit order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i) out += ",";
      if (i in value) out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = "{";
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ",";
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

type HashedFields = Omit<AuditEventRow, "txid" | "rowHmac">;

/**
 * The row's HMAC over every column but `txid`. The webhook event is appended only when there is one,
 * so rows written before the column existed (0014) keep the HMAC they were written with.
 */
export function auditRowHmac(row: HashedFields, detailsJson = canonicalJson(row.details)): string {
  // canonicalJson([id, occurredAt, …, details, webhook?]), with the details' canonical text given.
  let material = "[";
  for (const field of [
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
  ]) {
    material += `${canonicalJson(field)},`;
  }
  material += detailsJson;
  // `!= null`: an archive written before 0014 has no `webhook` key at all.
  if (row.webhook != null) material += `,${canonicalJson(row.webhook)}`;
  material += "]";
  return createHmac("sha256", derivedKey("audit")).update(material).digest("base64url");
}

/** A row as written: its HMAC, and its details as canonical JSON text (the HMAC's and the INSERT's). */
type AuditRow = HashedFields & { rowHmac: string; detailsJson: string };

export function buildAuditRow(input: AuditInput, meta: RequestMeta): AuditRow {
  if (!isAuditAction(input.action)) throw new Error(`Unknown audit action "${String(input.action)}".`);
  const details = input.details ?? {};
  assertNoSecrets(details);
  const detailsJson = canonicalJson(details);
  const occurredAt = new Date((input.occurredAt ?? new Date()).getTime());
  const environment = input.environment ?? null;
  let webhook: AuditWebhook | null = null;
  if (input.webhook) {
    assertNoSecrets(input.webhook.data, "data", "a webhook payload");
    // The fan-out sends the event to the endpoints of the audit event's environment.
    if (!isEnvironment(environment)) throw new Error(`A webhook event needs its audit event's environment ("${input.action}" has none).`);
    webhook = auditWebhook(input.webhook, occurredAt);
  }
  const row: AuditRow = {
    id: newId(),
    occurredAt,
    actorType: input.actor.type,
    actorId: input.actor.id,
    actorName: input.actor.name,
    action: input.action,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    environment,
    outcome: input.outcome ?? "success",
    reason: input.reason ?? null,
    requestId: meta.requestId,
    ip: meta.ip,
    userAgent: meta.userAgent ? meta.userAgent.slice(0, 512) : null,
    // The caller's object: what is written and hashed is its canonical text, detailsJson (the same
    // HMAC as over a parsed copy of it, which no one reads).
    details,
    webhook,
    rowHmac: "",
    detailsJson,
  };
  row.rowHmac = auditRowHmac(row, detailsJson);
  return row;
}

const AUDIT_COLUMNS = sql.raw(
  "id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, environment, outcome, reason, request_id, ip, user_agent, details, row_hmac, webhook",
);

/** One row's values in AUDIT_COLUMNS' order, as the driver takes them. */
function auditParams(r: AuditRow): unknown[] {
  return [
    r.id,
    r.occurredAt.toISOString(),
    r.actorType,
    r.actorId,
    r.actorName,
    r.action,
    r.targetType,
    r.targetId,
    r.environment,
    r.outcome,
    r.reason,
    r.requestId,
    r.ip,
    r.userAgent,
    r.detailsJson,
    r.rowHmac,
    r.webhook ? JSON.stringify(r.webhook) : null,
  ];
}

/** One row's values list with their casts: `v` is auditParams' list (or placeholders for it). */
function auditValues(v: unknown[]): SQL {
  return sql`(${v[0]}::uuid, ${v[1]}::timestamptz, ${v[2]}, ${v[3]}, ${v[4]}, ${v[5]}, ${v[6]}, ${v[7]}, ${v[8]}, ${v[9]}, ${v[10]}, ${v[11]},
           ${v[12]}, ${v[13]}, ${v[14]}::jsonb, ${v[15]}, ${v[16]}::jsonb)`;
}

const AUDIT_PARAMS = 17;

/**
 * The audit INSERT of a caller's operation with its own last writes as data-modifying CTEs
 * (`alongside`, written with `p.name` placeholders for its values): the statement's text is compiled
 * once per number of events (compileStatement), not in every request, and each parameter's source
 * (a row's value, or one of `alongside`'s by name) is resolved then too. Define it once, at module
 * level; `recordAudits(tx, events, meta, { alongside: { statement, values } })` runs it.
 */
export class AuditStatement<N extends string> {
  private readonly byCount = new Map<number, { sql: string; row: Int32Array; col: Int32Array; names: string[] }>();
  constructor(private readonly alongside: ((p: Record<N, Placeholder<N>>) => SQL) | null) {}

  bind(rows: AuditRow[], values: Record<N, unknown> | null): Query {
    let compiled = this.byCount.get(rows.length);
    if (!compiled) {
      const count = rows.length;
      // Row i's values are the placeholders "audit i k" (not a JS identifier: no clash with `alongside`'s).
      const { sql: text, names } = compileStatement<string>((p) => {
        const audit = sql`insert into audit_events (${AUDIT_COLUMNS}) values ${sql.join(
          Array.from({ length: count }, (_, i) => auditValues(Array.from({ length: AUDIT_PARAMS }, (_, k) => p[`audit ${i} ${k}`]))),
          sql`, `,
        )}`;
        return this.alongside ? sql`with ${this.alongside(p as Record<N, Placeholder<N>>)} ${audit}` : audit;
      });
      const row = new Int32Array(names.length).fill(-1);
      const col = new Int32Array(names.length);
      names.forEach((name, j) => {
        const m = /^audit (\d+) (\d+)$/.exec(name);
        if (m) [row[j], col[j]] = [Number(m[1]), Number(m[2])];
      });
      compiled = { sql: text, row, col, names };
      this.byCount.set(count, compiled);
    }
    const rowParams = rows.map(auditParams);
    const { row, col, names } = compiled;
    const params = new Array<unknown>(names.length);
    for (let j = 0; j < names.length; j++) {
      params[j] = row[j]! >= 0 ? rowParams[row[j]!]![col[j]!] : boundValue((values as Record<string, unknown>)[names[j]!], names[j]!);
    }
    return { sql: compiled.sql, params };
  }
}

/** The audit INSERT alone. */
const AUDIT_ONLY = new AuditStatement(null);

/**
 * One INSERT for any number of events, webhook events included (the `webhook` column; the fan-out
 * turns them into deliveries after commit). An `sql` template rather than the query builder: this
 * runs in every audited request, and the builder cost more CPU than the statement (see db/rows.ts);
 * its text, with the caller's `alongside` writes or without, is compiled once (AuditStatement).
 * `txid` is left to its default (the writing transaction's id), which is what the sealer and the
 * fan-out range over.
 */
async function insertAuditRows<N extends string>(tx: Executor, rows: AuditRow[], alongside: Alongside<N> | null): Promise<void> {
  await queryRows(
    tx,
    alongside === null ? AUDIT_ONLY.bind(rows, null) : alongside.statement.bind(rows, alongside.values),
    // Prepared: its text varies only with the number of rows (one to three events an operation)
    // and the caller's fixed `alongside` writes.
    { prepare: true },
  );
  // Counted when written in its transaction (a transaction that later rolls back was still counted).
  for (const r of rows) countAuditEvent(r);
}

/** An AuditStatement's alongside writes with this operation's values. */
export type Alongside<N extends string = string> = { statement: AuditStatement<N>; values: Record<N, unknown> };

/**
 * One event's audit INSERT as part of a caller's statement, writing the row only `where` the
 * condition holds: for an operation that makes its change and its audit event in one autocommit
 * statement (`with t as (insert …), a as (${insert}) select … from t`, lib/sign-in-tokens), so
 * the event exists exactly when the change does without a transaction around them. The caller
 * calls `written()` once the statement says the change was made (the metric counts written events).
 * A webhook event it carries is in the row like recordAudit's, so it too exists exactly when the change does.
 */
export function guardedAuditInsert(input: AuditInput, meta: RequestMeta, where: SQL): { id: string; insert: SQL; written: () => void } {
  const row = buildAuditRow(input, meta);
  return {
    id: row.id,
    // `select … from (values …)`: the same row as recordAudit's, typed by the same casts.
    insert: sql`insert into audit_events (${AUDIT_COLUMNS}) select * from (values ${auditValues(auditParams(row))}) v where ${where}`,
    written: () => countAuditEvent(row),
  };
}

/** Writes one audit event (and the webhook event it carries) in the caller's transaction and returns its id. */
export async function recordAudit(tx: Executor, input: AuditInput, meta: RequestMeta): Promise<string> {
  const row = buildAuditRow(input, meta);
  await insertAuditRows(tx, [row], null);
  return row.id;
}

/**
 * Several events of one operation (and the webhook events they carry) in one statement, in the
 * caller's transaction. `alongside`: the operation's own last writes as data-modifying CTEs of that
 * statement (`name as (insert …), …`: an AuditStatement defined once, with this operation's values),
 * so they cost no statement of their own; they run exactly once whether or not anything reads them,
 * and a failing one fails the statement.
 */
export async function recordAudits<N extends string>(
  tx: Executor,
  inputs: AuditInput[],
  meta: RequestMeta,
  opts: { alongside?: Alongside<N> } = {},
): Promise<string[]> {
  const rows = inputs.map((input) => buildAuditRow(input, meta));
  if (rows.length) await insertAuditRows(tx, rows, opts.alongside ?? null);
  return rows.map((r) => r.id);
}
