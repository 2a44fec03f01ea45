/**
 * `tokendesk audit verify`: recomputes every row's HMAC and every seal, and names the first bad
 * entry — a row edited in SQL, deleted, inserted behind the log's back, or swapped with another, a
 * seal deleted or altered. Given an anchor kept outside the database (anchor.ts), it also names a
 * cut tail: the database no longer reaching the anchored seal.
 */
import { and, asc, eq, gte, lt } from "drizzle-orm";
import type { Database } from "@/db/client";
import { type AuditEventRow, auditEvents, auditSeals } from "@/db/schema";
import { type AuditAnchor, formatAnchor } from "./anchor";
import { archiveCheckpointHmac, latestArchive } from "./archive";
import { auditRowHmac } from "./record";
import { GENESIS_DIGEST, type SealHead, sealAll, sealDigest, unpackIds } from "./seal";

export type VerifyProblemKind = "edited" | "deleted" | "inserted" | "moved" | "seal_missing" | "seal_altered" | "tail_cut";

export interface VerifyProblem {
  kind: VerifyProblemKind;
  eventId: string | null;
  sealSeq: number | null;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  eventsChecked: number;
  sealsChecked: number;
  unsealedEvents: number;
  problem: VerifyProblem | null;
  /** The newest seal (what to anchor next), whatever the outcome; null before the first seal. */
  latest: SealHead | null;
  /** The anchor checked, when one was given. */
  anchor: AuditAnchor | null;
}

function describe(row: AuditEventRow): string {
  return `event ${row.id} (${row.action} at ${row.occurredAt.toISOString()})`;
}

async function rowsInRange(db: Database, from: bigint, to: bigint | null): Promise<AuditEventRow[]> {
  return db
    .select()
    .from(auditEvents)
    .where(to === null ? gte(auditEvents.txid, from) : and(gte(auditEvents.txid, from), lt(auditEvents.txid, to)))
    .orderBy(asc(auditEvents.id));
}

/**
 * Names the problem when the log no longer reaches `anchor`, else null. Seals up to `archived.toSeal`
 * were archived (their digests are in the archive file; the checkpoint keeps the last one's).
 */
function checkAnchor(anchor: AuditAnchor, seals: SealHead[], archived: { toSeal: number; lastDigest: string } | null): VerifyProblem | null {
  const newest = seals.at(-1) ?? null;
  const newestSaid = newest ? `the newest seal is #${newest.seq}` : "there is no seal at all";
  if (anchor.seq === null) {
    if (seals.some((s) => s.digest === anchor.digest) || archived?.lastDigest === anchor.digest) return null;
    return {
      kind: "tail_cut",
      eventId: null,
      sealSeq: null,
      message: archived
        ? `No seal in the database has the anchored digest ${anchor.digest} (${newestSaid}; seals up to #${archived.toSeal} are archived, so give the anchor as number:digest): the log was cut back or rewritten since the anchor was taken, or the anchored seal was archived.`
        : `No seal has the anchored digest ${anchor.digest} (${newestSaid}): the log was cut back or rewritten since the anchor was taken.`,
    };
  }
  // An archived seal: the log reaches past it (the archive keeps the newest seal in the database).
  if (archived && anchor.seq < archived.toSeal) return null;
  const sealed = archived && anchor.seq === archived.toSeal ? { digest: archived.lastDigest } : seals.find((s) => s.seq === anchor.seq);
  if (!sealed) {
    return {
      kind: "tail_cut",
      eventId: null,
      sealSeq: anchor.seq,
      message: `The anchor names seal #${anchor.seq}, but ${newestSaid}: the log's tail was cut (seals and their events deleted) since the anchor was taken.`,
    };
  }
  if (sealed.digest !== anchor.digest) {
    return {
      kind: "tail_cut",
      eventId: null,
      sealSeq: anchor.seq,
      message: `Seal #${anchor.seq} no longer has the anchored digest (anchor ${formatAnchor({ seq: anchor.seq, digest: anchor.digest })}): the log was cut back and sealed again since the anchor was taken.`,
    };
  }
  return null;
}

export async function verifyAuditLog(
  db: Database,
  opts: { seal?: boolean; anchor?: AuditAnchor | null; onProgress?: (checked: number) => void } = {},
): Promise<VerifyReport> {
  // Seal what has finished first, so the check covers everything but in-flight transactions.
  if (opts.seal !== false) await sealAll(db);

  const seals = await db.select().from(auditSeals).orderBy(asc(auditSeals.seq));
  // Archived ranges (lib/audit/archive.ts) are gone from the database: the chain continues from the
  // newest checkpoint, whose HMAC proves that tokendesk wrote it.
  const checkpoint = await latestArchive(db);
  const newest = seals.at(-1);
  const latest: SealHead | null = newest ? { seq: newest.seq, digest: newest.digest, sealedAt: newest.sealedAt } : null;
  const anchor = opts.anchor ?? null;
  let eventsChecked = 0;
  let previousDigest = checkpoint?.lastDigest ?? GENESIS_DIGEST;
  let previousTo = checkpoint?.toTxid ?? 0n;
  const fail = (problem: VerifyProblem): VerifyReport => ({
    ok: false,
    eventsChecked,
    sealsChecked: seals.length,
    unsealedEvents: 0,
    problem,
    latest,
    anchor,
  });

  if (checkpoint) {
    if (archiveCheckpointHmac(checkpoint) !== checkpoint.hmac) {
      return fail({
        kind: "seal_altered",
        eventId: null,
        sealSeq: checkpoint.toSeal,
        message: `The archive checkpoint of seals #${checkpoint.fromSeal}–#${checkpoint.toSeal} was altered.`,
      });
    }
    const [stray] = await db.select().from(auditEvents).where(lt(auditEvents.txid, previousTo)).limit(1);
    if (stray) {
      return fail({
        kind: "inserted",
        eventId: stray.id,
        sealSeq: checkpoint.toSeal,
        message: `${describe(stray)} lies in the archived range (seals up to #${checkpoint.toSeal}): it was inserted behind the log's back.`,
      });
    }
  }

  // Numbers run on from the archived seals (else from 1) without gaps: a hole is a deleted seal,
  // even one whose neighbours still chain.
  const firstSeq = (checkpoint?.toSeal ?? 0) + 1;
  for (const [index, seal] of seals.entries()) {
    const want = firstSeq + index;
    if (seal.seq !== want) {
      const missing = seal.seq > want + 1 ? `#${want} to #${seal.seq - 1}` : `#${want}`;
      return fail({
        kind: "seal_missing",
        eventId: null,
        sealSeq: seal.seq,
        message: `Seal ${missing} is missing before seal #${seal.seq} (seal numbers run without gaps): a seal was deleted.`,
      });
    }
    if (seal.fromTxid !== previousTo) {
      return fail({
        kind: "seal_missing",
        eventId: null,
        sealSeq: seal.seq,
        message: `Seal #${seal.seq} does not continue the seal before it: a seal was deleted or altered.`,
      });
    }
    const expected = unpackIds(seal.eventIds);
    const rows = await rowsInRange(db, seal.fromTxid, seal.toTxid);
    let j = 0;
    for (let i = 0; i < expected.length || j < rows.length; ) {
      const want = expected[i];
      const row = rows[j];
      if (want !== undefined && row && row.id === want) {
        if (auditRowHmac(row) !== row.rowHmac) {
          return fail({ kind: "edited", eventId: row.id, sealSeq: seal.seq, message: `${describe(row)} was edited after it was written.` });
        }
        i++;
        j++;
        eventsChecked++;
      } else if (want !== undefined && (!row || want < row.id)) {
        const [moved] = await db.select().from(auditEvents).where(eq(auditEvents.id, want));
        return fail(
          moved
            ? {
                kind: "moved",
                eventId: want,
                sealSeq: seal.seq,
                message: `${describe(moved)} was moved out of seal #${seal.seq} (its transaction id was changed).`,
              }
            : { kind: "deleted", eventId: want, sealSeq: seal.seq, message: `Event ${want}, sealed in seal #${seal.seq}, was deleted.` },
        );
      } else {
        return fail({
          kind: "inserted",
          eventId: row!.id,
          sealSeq: seal.seq,
          message: `${describe(row!)} is not part of seal #${seal.seq}: it was inserted or re-dated behind the log's back.`,
        });
      }
    }
    const digest = sealDigest(previousDigest, rows);
    if (digest !== seal.digest) {
      return fail({ kind: "seal_altered", eventId: null, sealSeq: seal.seq, message: `Seal #${seal.seq} was altered: its digest does not match its events.` });
    }
    previousDigest = seal.digest;
    previousTo = seal.toTxid;
    opts.onProgress?.(eventsChecked);
  }

  if (anchor) {
    const problem = checkAnchor(anchor, seals, checkpoint);
    if (problem) return fail(problem);
  }

  // Rows not sealed yet (still-running transactions when we sealed): their own HMACs at least.
  const unsealed = await rowsInRange(db, previousTo, null);
  for (const row of unsealed) {
    if (auditRowHmac(row) !== row.rowHmac) {
      return fail({ kind: "edited", eventId: row.id, sealSeq: null, message: `${describe(row)} was edited after it was written.` });
    }
  }
  return {
    ok: true,
    eventsChecked: eventsChecked + unsealed.length,
    sealsChecked: seals.length,
    unsealedEvents: unsealed.length,
    problem: null,
    latest,
    anchor,
  };
}
