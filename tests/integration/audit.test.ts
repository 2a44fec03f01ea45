/**
 * The audit log's tamper evidence: a clean log verifies, and every way of changing it behind the
 * application's back in SQL (edit, delete, swap, move, seal deletion or alteration) is named by
 * `verifyAuditLog` — the function behind `tokendesk audit verify` and the audit page's button.
 */
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { recordAudit } from "@/lib/audit/record";
import { listSeals, sealAll } from "@/lib/audit/seal";
import { verifyAuditLog } from "@/lib/audit/verify";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { databaseDigest, expectUnchanged } from "../helpers/db-digest";

const actor: Actor = { type: "staff", id: "00000000-0000-7000-8000-000000000001", name: "ada@example.test", role: "admin" };

let t: TestDatabase;
beforeEach(async () => {
  t = await createTestDatabase();
});
afterEach(async () => {
  await t.close();
});

/** Writes `perBatch` events per transaction, `batches` transactions, sealing after each batch. */
async function writeSealedLog(batches: number, perBatch: number): Promise<string[][]> {
  const ids: string[][] = [];
  for (let b = 0; b < batches; b++) {
    const batch = await t.db.transaction(async (tx) => {
      const out: string[] = [];
      for (let i = 0; i < perBatch; i++) {
        out.push(
          await recordAudit(
            tx,
            { actor, action: "user.disabled", target: { type: "user", id: `u-${b}-${i}` }, environment: "sandbox", reason: `batch ${b} event ${i}` },
            { requestId: `req-${b}-${i}`, ip: "10.0.0.1", userAgent: "vitest" },
          ),
        );
      }
      return out;
    });
    ids.push(batch.sort());
    expect(await sealAll(t.db)).toBe(perBatch);
  }
  return ids;
}

const exec = (query: ReturnType<typeof sql>) => t.db.execute(query);

describe("audit log verification", () => {
  it("verifies a clean log and seals every event exactly once", async () => {
    await writeSealedLog(3, 4);
    const report = await verifyAuditLog(t.db);
    expect(report).toMatchObject({ ok: true, eventsChecked: 12, sealsChecked: 3, unsealedEvents: 0, problem: null });
    const seals = await listSeals(t.db);
    expect(seals.map((s) => s.rowCount)).toEqual([4, 4, 4]);
    // Nothing new finished: sealing again adds no seal.
    expect(await sealAll(t.db)).toBe(0);
    expect(await listSeals(t.db)).toHaveLength(3);
  });

  it("names a row whose reason was edited in SQL", async () => {
    const ids = await writeSealedLog(3, 3);
    const victim = ids[1]![2]!;
    await exec(sql`update audit_events set reason = 'nothing to see here' where id = ${victim}`);
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "edited", eventId: victim, sealSeq: 2 });
    expect(report.problem!.message).toContain(victim);
  });

  it("names a row that was deleted", async () => {
    const ids = await writeSealedLog(3, 3);
    const victim = ids[0]![1]!;
    await exec(sql`delete from audit_events where id = ${victim}`);
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "deleted", eventId: victim, sealSeq: 1 });
    expect(report.problem!.message).toContain(victim);
  });

  it("names the first of two rows whose ids were swapped (re-ordered) within one seal", async () => {
    const ids = await writeSealedLog(2, 4);
    const [a, , , b] = ids[1]!; // a < b
    // Swap through a placeholder: the primary key forbids two rows with one id even for a moment.
    const placeholder = "ffffffff-ffff-7fff-bfff-ffffffffffff";
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`update audit_events set id = ${placeholder} where id = ${a!}`);
      await tx.execute(sql`update audit_events set id = ${a!} where id = ${b!}`);
      await tx.execute(sql`update audit_events set id = ${b!} where id = ${placeholder}`);
    });
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    // The row now answering to `a` carries b's content: its HMAC no longer matches.
    expect(report.problem).toMatchObject({ kind: "edited", eventId: a, sealSeq: 2 });
  });

  it("catches two rows swapped across seals", async () => {
    const ids = await writeSealedLog(3, 2);
    const a = ids[0]![0]!; // sealed in #1
    const b = ids[2]![1]!; // sealed in #3, a < b
    const placeholder = "ffffffff-ffff-7fff-bfff-ffffffffffff";
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`update audit_events set id = ${placeholder} where id = ${a}`);
      await tx.execute(sql`update audit_events set id = ${a} where id = ${b}`);
      await tx.execute(sql`update audit_events set id = ${b} where id = ${placeholder}`);
    });
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    // Seal #1 lists `a`, but the row with id `a` now lives in seal #3's transaction range.
    expect(report.problem).toMatchObject({ kind: "moved", eventId: a, sealSeq: 1 });
  });

  it("names a row whose transaction id was changed (moved out of its seal)", async () => {
    const ids = await writeSealedLog(3, 2);
    const victim = ids[0]![1]!;
    const [later] = await queryRows<{ txid: string }>(t.db, sql`select txid::text as txid from audit_events where id = ${ids[2]![0]!}`);
    await exec(sql`update audit_events set txid = ${later!.txid}::bigint where id = ${victim}`);
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "moved", eventId: victim, sealSeq: 1 });
  });

  it("names a row inserted behind the log's back into a sealed range", async () => {
    const ids = await writeSealedLog(2, 2);
    const [row] = await queryRows<{ txid: string }>(t.db, sql`select txid::text as txid from audit_events where id = ${ids[0]![0]!}`);
    const forged = "00000000-0000-7000-8000-0000000000ff"; // sorts before every real id
    await exec(sql`insert into audit_events (id, occurred_at, txid, actor_type, action, outcome, row_hmac)
                   values (${forged}, now(), ${row!.txid}::bigint, 'system', 'user.deleted', 'success', 'forged')`);
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "inserted", eventId: forged, sealSeq: 1 });
  });

  it("notices a deleted seal", async () => {
    await writeSealedLog(3, 2);
    await exec(sql`delete from audit_seals where seq = 1`);
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "seal_missing", eventId: null, sealSeq: 2 });
  });

  it("notices an altered seal digest", async () => {
    await writeSealedLog(3, 2);
    await exec(sql`update audit_seals set digest = 'AAAA' || substr(digest, 5) where seq = 2`);
    const report = await verifyAuditLog(t.db);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "seal_altered", eventId: null, sealSeq: 2 });
  });

  it("catches an edit to a row that is not sealed yet", async () => {
    await writeSealedLog(1, 2);
    const fresh = await recordAudit(t.db, { actor: systemActor("test"), action: "settings.changed", details: { from: 1, to: 2 } }, NO_REQUEST);
    await exec(sql`update audit_events set details = '{"from":1,"to":3}'::jsonb where id = ${fresh}`);
    // Without sealing first, the edited row is still outside every seal: its own HMAC catches it.
    const unsealed = await verifyAuditLog(t.db, { seal: false });
    expect(unsealed.ok).toBe(false);
    expect(unsealed.problem).toMatchObject({ kind: "edited", eventId: fresh, sealSeq: null });
    // Sealing does not launder it: the edited row is sealed with its stale HMAC and still named.
    const sealed = await verifyAuditLog(t.db);
    expect(sealed.problem).toMatchObject({ kind: "edited", eventId: fresh, sealSeq: 2 });
  });

  it("keeps key order out of the HMAC: jsonb re-ordering of details is not tampering", async () => {
    await recordAudit(t.db, { actor, action: "settings.changed", details: { zeta: 1, alpha: { b: 2, a: 1 } } }, NO_REQUEST);
    await sealAll(t.db);
    expect((await verifyAuditLog(t.db)).ok).toBe(true);
  });

  it("refuses unknown actions and secrets in details, writing nothing", async () => {
    const before = await databaseDigest(t.db);
    await expect(recordAudit(t.db, { actor, action: "user.exploded" as never }, NO_REQUEST)).rejects.toThrow(/Unknown audit action/);
    await expect(recordAudit(t.db, { actor, action: "api_key.created", details: { nested: { token: "sk_live_x" } } }, NO_REQUEST)).rejects.toThrow(
      /details\.nested\.token/,
    );
    await expectUnchanged(t.db, before);
  });
});
