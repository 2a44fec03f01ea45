/**
 * Sealing: binds every audit row whose transaction has finished into a chain of seals.
 *
 * Why not a hash chain through the rows themselves? A chain needs a single "head" row that every
 * writer updates, which serialises all writers (a few thousand appends a second at best). Instead,
 * writers only insert; one sealer at a time (advisory lock) periodically takes every row whose
 * transaction id lies below the oldest still-running transaction (`pg_snapshot_xmin`) — those rows
 * can never change membership again — and records their ids and an HMAC over them and the previous
 * seal. A row edited, deleted, swapped or moved afterwards no longer matches its seal.
 *
 * Seals are numbered 1, 2, 3... without gaps (the sealer, alone under its lock, takes the previous
 * number + 1; a sequence alone would leave holes on a rolled-back seal). It moves the column's
 * sequence along, so a previous release still sealing through the default during a rolling upgrade
 * takes the next number too. A missing number is then
 * evidence, and the newest seal's number and digest are an anchor that can be kept outside the
 * database (anchor.ts): a tail cut back to an older seal no longer reaches it.
 */
import { createHmac } from "node:crypto";
import { asc, desc, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { queryRows } from "@/db/client";
import { auditSeals } from "@/db/schema";
import { derivedKey } from "@/lib/crypto/keys";

export const SEAL_LOCK = 7_404_117_002;
/** Rows per seal at most, so one seal's id list and digest stay a bounded amount of work. */
export const MAX_ROWS_PER_SEAL = 50_000;

export const GENESIS_DIGEST = "genesis";

export interface SealMember {
  id: string;
  rowHmac: string;
}

export function sealDigest(previousDigest: string, members: SealMember[]): string {
  const h = createHmac("sha256", derivedKey("audit"));
  h.update(`seal:v1\n${previousDigest}\n`);
  for (const m of members) h.update(`${m.id}:${m.rowHmac}\n`);
  return h.digest("base64url");
}

export function packIds(ids: string[]): Buffer {
  return Buffer.concat(ids.map((id) => Buffer.from(id.replace(/-/g, ""), "hex")));
}

export function unpackIds(buf: Buffer): string[] {
  const ids: string[] = [];
  for (let i = 0; i + 16 <= buf.length; i += 16) {
    const hex = buf.subarray(i, i + 16).toString("hex");
    ids.push(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
  }
  return ids;
}

/** Members of the txid range [from, to), in the order a seal lists them. */
export async function sealMembers(db: Executor, fromTxid: bigint, toTxid: bigint): Promise<SealMember[]> {
  return queryRows<SealMember>(
    db,
    sql`select id::text as "id", row_hmac as "rowHmac" from audit_events
        where txid >= ${fromTxid.toString()}::bigint and txid < ${toTxid.toString()}::bigint
        order by id`,
  );
}

/**
 * Bounds the audit rows of [from, to) to about `maxRows`: ends the range at the txid of row
 * maxRows+1 in txid order (audit_events_txid_idx), so a transaction's rows stay in one batch (one
 * transaction of more rows than that is taken whole). `cut`: rows were left for the next batch.
 * The sealer and the webhook fan-out (lib/webhooks/outbox.ts) walk the log this way.
 */
export async function boundTxidRange(db: Executor, fromTxid: bigint, toTxid: bigint, maxRows: number): Promise<{ toTxid: bigint; cut: boolean }> {
  // Aliased `at`, not `txid`: `order by txid` then sorts the bigint column (by the index), not its text.
  const [row] = await queryRows<{ at: string }>(
    db,
    sql`select txid::text as at from audit_events
        where txid >= ${fromTxid.toString()}::bigint and txid < ${toTxid.toString()}::bigint
        order by txid offset ${maxRows} limit 1`,
  );
  if (!row) return { toTxid, cut: false };
  const at = BigInt(row.at);
  return { toTxid: at > fromTxid ? at : at + 1n, cut: true };
}

/**
 * Seals what can be sealed now. Returns the number of rows sealed (0 when another instance holds
 * the sealer lock or nothing has finished since the last seal). Call repeatedly to drain a backlog.
 */
export async function sealAuditLog(db: Database): Promise<number> {
  return db.transaction(async (tx) => {
    const [lock] = await queryRows<{ ok: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${SEAL_LOCK}) as ok`);
    if (!lock?.ok) return 0;
    const [horizon] = await queryRows<{ xmin: string }>(tx, sql`select (pg_snapshot_xmin(pg_current_snapshot())::text) as xmin`);
    let toTxid = BigInt(horizon!.xmin);
    const [last] = await tx.select().from(auditSeals).orderBy(desc(auditSeals.seq)).limit(1);
    const fromTxid = last ? last.toTxid : 0n;
    if (toTxid <= fromTxid) return 0;

    toTxid = (await boundTxidRange(tx, fromTxid, toTxid, MAX_ROWS_PER_SEAL)).toTxid;

    const members = await sealMembers(tx, fromTxid, toTxid);
    if (members.length === 0) return 0;
    const seq = (last?.seq ?? 0) + 1;
    await queryRows(tx, sql`select setval(pg_get_serial_sequence('audit_seals', 'seq'), ${seq}::bigint)`);
    await tx.insert(auditSeals).values({
      seq,
      fromTxid,
      toTxid,
      rowCount: members.length,
      firstEventId: members[0]!.id,
      lastEventId: members[members.length - 1]!.id,
      eventIds: packIds(members.map((m) => m.id)),
      digest: sealDigest(last?.digest ?? GENESIS_DIGEST, members),
    });
    return members.length;
  });
}

/** Seals until nothing finished is left unsealed. */
export async function sealAll(db: Database): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await sealAuditLog(db);
    total += n;
    if (n < MAX_ROWS_PER_SEAL) return total;
  }
}

export async function listSeals(db: Executor) {
  return db.select().from(auditSeals).orderBy(asc(auditSeals.seq));
}

export interface SealHead {
  seq: number;
  digest: string;
  sealedAt: Date;
}

/** The newest seal: what an anchor records. */
export async function latestSeal(db: Executor): Promise<SealHead | null> {
  const [row] = await db
    .select({ seq: auditSeals.seq, digest: auditSeals.digest, sealedAt: auditSeals.sealedAt })
    .from(auditSeals)
    .orderBy(desc(auditSeals.seq))
    .limit(1);
  return row ?? null;
}
