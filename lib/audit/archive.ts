/**
 * Audit retention: the oldest whole seals and their events are written to an NDJSON archive (every
 * column, each seal's digest) and only then deleted, with a checkpoint row from which
 * `audit verify` continues the chain. An archive can be checked on its own later
 * (`tokendesk audit verify-archive FILE`, with the same TOKENDESK_SECRET).
 *
 * Archive file, one JSON object a line:
 *   {"type":"archive","version":1,"fromSeal","toSeal","fromTxid","toTxid","previousDigest","createdAt"}
 *   {"type":"event", ...every audit_events column...}   (the events of one seal, in id order)
 *   {"type":"seal","seq","fromTxid","toTxid","rowCount","digest","sealedAt"}   (after its events)
 *   ... more events and seals ...
 */
import { createHash, createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { and, asc, desc, gte, lt, lte, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { type AuditArchive, type AuditEventRow, auditArchives, auditEvents, auditSeals } from "@/db/schema";
import type { Actor, RequestMeta } from "@/lib/context";
import { derivedKey } from "@/lib/crypto/keys";
import { auditRowHmac, recordAudit } from "./record";
import { GENESIS_DIGEST, SEAL_LOCK, sealDigest, unpackIds } from "./seal";

export function archiveCheckpointHmac(a: Pick<AuditArchive, "fromSeal" | "toSeal" | "toTxid" | "lastDigest" | "eventCount" | "sha256">): string {
  return createHmac("sha256", derivedKey("audit"))
    .update(`archive:v1\n${a.fromSeal}\n${a.toSeal}\n${a.toTxid}\n${a.lastDigest}\n${a.eventCount}\n${a.sha256}`)
    .digest("base64url");
}

/** The newest checkpoint (where the chain in the database now starts), or null if nothing was archived. */
export async function latestArchive(db: Executor): Promise<AuditArchive | null> {
  const [row] = await db.select().from(auditArchives).orderBy(desc(auditArchives.seq)).limit(1);
  return row ?? null;
}

export class ArchiveRefusedError extends Error {
  override name = "ArchiveRefusedError";
}

function eventLine(row: AuditEventRow): string {
  return JSON.stringify({ type: "event", ...row, occurredAt: row.occurredAt.toISOString(), txid: row.txid.toString() });
}

export interface ArchiveResult {
  fromSeal: number;
  toSeal: number;
  events: number;
  file: string;
  sha256: string;
}

/**
 * Archives and deletes the oldest seals made before `cutoff` (never the newest seal, which the
 * sealer continues from), at most about `maxEvents` events per call. Refuses, deleting nothing, when
 * a seal to archive does not verify: evidence of tampering is never thrown away.
 * The caller holds the janitor's lock.
 */
export async function archiveAuditLog(
  db: Database,
  opts: { cutoff: Date; dir: string; actor: Actor; meta: RequestMeta; maxEvents?: number; now?: Date },
): Promise<ArchiveResult | null> {
  const maxEvents = opts.maxEvents ?? 200_000;
  const [newest] = await db.select({ seq: auditSeals.seq }).from(auditSeals).orderBy(desc(auditSeals.seq)).limit(1);
  if (!newest) return null;
  const candidates = await db
    .select()
    .from(auditSeals)
    .where(and(lt(auditSeals.sealedAt, opts.cutoff), lt(auditSeals.seq, newest.seq)))
    .orderBy(asc(auditSeals.seq))
    .limit(1000);
  const seals: typeof candidates = [];
  let events = 0;
  for (const s of candidates) {
    if (seals.length && events + s.rowCount > maxEvents) break;
    seals.push(s);
    events += s.rowCount;
  }
  if (!seals.length) return null;

  const checkpoint = await latestArchive(db);
  const previousDigest = checkpoint?.lastDigest ?? GENESIS_DIGEST;
  const first = seals[0]!;
  const last = seals[seals.length - 1]!;

  fs.mkdirSync(opts.dir, { recursive: true });
  const file = path.join(opts.dir, `audit-seals-${first.seq}-${last.seq}.ndjson`);
  const partial = `${file}.partial`;
  const fd = fs.openSync(partial, "w", 0o600);
  const hash = createHash("sha256");
  const write = (line: string) => {
    const buf = Buffer.from(`${line}\n`);
    hash.update(buf);
    fs.writeSync(fd, buf);
  };
  try {
    write(
      JSON.stringify({
        type: "archive",
        version: 1,
        fromSeal: first.seq,
        toSeal: last.seq,
        fromTxid: first.fromTxid.toString(),
        toTxid: last.toTxid.toString(),
        previousDigest,
        createdAt: (opts.now ?? new Date()).toISOString(),
      }),
    );
    let digest = previousDigest;
    for (const seal of seals) {
      const rows = await db
        .select()
        .from(auditEvents)
        .where(and(gte(auditEvents.txid, seal.fromTxid), lt(auditEvents.txid, seal.toTxid)))
        .orderBy(asc(auditEvents.id));
      const ids = unpackIds(seal.eventIds);
      const intact =
        rows.length === ids.length && rows.every((r, i) => r.id === ids[i] && auditRowHmac(r) === r.rowHmac) && sealDigest(digest, rows) === seal.digest;
      if (!intact) {
        throw new ArchiveRefusedError(`Seal #${seal.seq} does not verify: nothing was archived or deleted. Run \`tokendesk audit verify\`.`);
      }
      for (const row of rows) write(eventLine(row));
      write(
        JSON.stringify({
          type: "seal",
          seq: seal.seq,
          fromTxid: seal.fromTxid.toString(),
          toTxid: seal.toTxid.toString(),
          rowCount: seal.rowCount,
          digest: seal.digest,
          sealedAt: seal.sealedAt.toISOString(),
        }),
      );
      digest = seal.digest;
    }
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(partial, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  fs.renameSync(partial, file);
  const sha256 = hash.digest("hex");

  await db.transaction(async (tx) => {
    // The sealer appends after the newest seal; waiting for its lock keeps the two from interleaving.
    await tx.execute(sql`select pg_advisory_xact_lock(${SEAL_LOCK})`);
    await tx.delete(auditEvents).where(and(gte(auditEvents.txid, first.fromTxid), lt(auditEvents.txid, last.toTxid)));
    await tx.delete(auditSeals).where(lte(auditSeals.seq, last.seq));
    const row = { fromSeal: first.seq, toSeal: last.seq, toTxid: last.toTxid, lastDigest: last.digest, eventCount: events, sha256 };
    await tx.insert(auditArchives).values({ ...row, file: path.basename(file), hmac: archiveCheckpointHmac(row) });
    await recordAudit(
      tx,
      {
        actor: opts.actor,
        action: "audit.archived",
        target: { type: "audit_seals", id: `${first.seq}-${last.seq}` },
        details: { fromSeal: first.seq, toSeal: last.seq, events, file: path.basename(file), sha256 },
        occurredAt: opts.now,
      },
      opts.meta,
    );
  });
  return { fromSeal: first.seq, toSeal: last.seq, events, file, sha256 };
}

export interface ArchiveCheck {
  ok: boolean;
  events: number;
  seals: number;
  fromSeal: number | null;
  toSeal: number | null;
  sha256: string;
  problem: string | null;
}

/** Recomputes an archive's row HMACs and seal digests (needs the deployment's TOKENDESK_SECRET). */
export async function verifyArchiveFile(file: string): Promise<ArchiveCheck> {
  const hash = createHash("sha256");
  const input = fs.createReadStream(file);
  input.on("data", (chunk) => hash.update(chunk));
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  type Header = { fromSeal: number; toSeal: number; previousDigest: string };
  let header = null as Header | null;
  let digest = "";
  let pending: AuditEventRow[] = [];
  let events = 0;
  let seals = 0;
  let problem: string | null = null;
  let lastSeq: number | null = null;
  for await (const line of lines) {
    if (problem || !line.trim()) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o.type === "archive") {
      header = o as unknown as Header;
      digest = header.previousDigest;
    } else if (!header) {
      problem = "The file does not start with an archive header.";
    } else if (o.type === "event") {
      const row = { ...o, occurredAt: new Date(String(o.occurredAt)), txid: BigInt(String(o.txid)) } as unknown as AuditEventRow;
      if (auditRowHmac(row) !== row.rowHmac) problem = `Event ${row.id} was altered (its HMAC does not match).`;
      pending.push(row);
    } else if (o.type === "seal") {
      if (sealDigest(digest, pending) !== o.digest) problem = `Seal #${String(o.seq)} does not match its events.`;
      digest = String(o.digest);
      events += pending.length;
      pending = [];
      seals++;
      lastSeq = Number(o.seq);
    }
  }
  if (!problem && pending.length) problem = `${pending.length} events after the last seal belong to no seal.`;
  if (!problem && header && lastSeq !== header.toSeal) problem = `The archive ends at seal #${lastSeq}, not #${header.toSeal}: it was cut.`;
  return { ok: !problem && !!header, events, seals, fromSeal: header?.fromSeal ?? null, toSeal: header?.toSeal ?? null, sha256: hash.digest("hex"), problem };
}
