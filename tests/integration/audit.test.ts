/**
 * The audit log's tamper evidence: a clean log verifies, and every way of changing it behind the
 * application's back in SQL (edit, delete, swap, move, seal deletion or alteration) is named by
 * `verifyAuditLog` — the function behind `tokendesk audit verify` and the audit page's button.
 */
import { createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER, queryRows } from "@/db/client";
import { parseAnchorText } from "@/lib/audit/anchor";
import { auditRowHmac, canonicalJson, recordAudit, recordAudits } from "@/lib/audit/record";
import { latestSeal, listSeals, sealAll } from "@/lib/audit/seal";
import { verifyAuditLog } from "@/lib/audit/verify";
import { type Actor, NO_REQUEST, systemActor } from "@/lib/context";
import { derivedKey } from "@/lib/crypto/keys";
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

  it("covers a row's webhook event in its HMAC: a changed, removed or added event is named", async () => {
    const event = (deviceId: string) => ({
      actor,
      action: "device.registered" as const,
      target: { type: "device", id: deviceId },
      environment: "sandbox",
      webhook: { type: "device.registered" as const, data: { device_id: deviceId, instance_id: "i", client_id: null, environment: "sandbox" as const } },
    });
    const [changed, removed] = await recordAudits(t.db, [event("d-1"), event("d-2")], NO_REQUEST);
    const plain = await recordAudit(t.db, { actor, action: "settings.changed", details: { a: 1 } }, NO_REQUEST);
    await sealAll(t.db);
    expect((await verifyAuditLog(t.db)).ok).toBe(true);
    const [row] = await queryRows<{ webhook: { type: string; messageId: string; body: string } }>(
      t.db,
      sql`select webhook from audit_events where id = ${changed!}`,
    );
    expect(row!.webhook).toMatchObject({ type: "device.registered", messageId: expect.stringMatching(/^msg_[0-9a-f]{32}$/) });
    expect(JSON.parse(row!.webhook.body)).toMatchObject({ type: "device.registered", version: 1, data: { device_id: "d-1" } });

    const cases: Array<[string, ReturnType<typeof sql>]> = [
      [changed!, sql`update audit_events set webhook = jsonb_set(webhook, '{body}', to_jsonb(replace(webhook->>'body', 'd-1', 'd-9'))) where id = ${changed!}`],
      [removed!, sql`update audit_events set webhook = null where id = ${removed!}`],
      [plain, sql`update audit_events set webhook = (select webhook from audit_events where id = ${changed!}) where id = ${plain}`],
    ];
    for (const [victim, tamper] of cases) {
      const [saved] = await queryRows<{ webhook: unknown }>(t.db, sql`select webhook from audit_events where id = ${victim}`);
      await exec(tamper);
      const report = await verifyAuditLog(t.db);
      expect(report.problem, victim).toMatchObject({ kind: "edited", eventId: victim });
      await exec(sql`update audit_events set webhook = ${saved!.webhook === null ? null : JSON.stringify(saved!.webhook)}::jsonb where id = ${victim}`);
      expect((await verifyAuditLog(t.db)).ok).toBe(true);
    }
  });

  it("verifies rows written before the webhook column existed (HMAC over the fifteen fields)", async () => {
    // A row exactly as the release before migration 0014 wrote it: no webhook column in its HMAC.
    const row = {
      id: "01900000-0000-7000-8000-000000000001",
      occurredAt: new Date("2026-11-30T10:00:00.123Z"),
      actorType: "staff",
      actorId: actor.id,
      actorName: actor.name,
      action: "user.disabled",
      targetType: "user",
      targetId: "u-old",
      environment: "sandbox",
      outcome: "success" as const,
      reason: "written by the previous release",
      requestId: "req-old",
      ip: "10.0.0.1",
      userAgent: "vitest",
      details: { b: 2, a: 1 },
    };
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
    const hmac = createHmac("sha256", derivedKey("audit")).update(material).digest("base64url");
    expect(auditRowHmac({ ...row, webhook: null })).toBe(hmac);
    await exec(sql`insert into audit_events (id, occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, environment, outcome, reason, request_id, ip, user_agent, details, row_hmac)
                   values (${row.id}, ${row.occurredAt.toISOString()}, ${row.actorType}, ${row.actorId}, ${row.actorName}, ${row.action}, ${row.targetType}, ${row.targetId},
                           ${row.environment}, ${row.outcome}, ${row.reason}, ${row.requestId}, ${row.ip}, ${row.userAgent}, ${JSON.stringify(row.details)}::jsonb, ${hmac})`);
    await recordAudit(t.db, { actor, action: "settings.changed", details: { after: true } }, NO_REQUEST);
    const report = await verifyAuditLog(t.db);
    expect(report).toMatchObject({ ok: true, eventsChecked: 2, problem: null });
    await exec(sql`update audit_events set reason = 'edited' where id = ${row.id}`);
    expect((await verifyAuditLog(t.db)).problem).toMatchObject({ kind: "edited", eventId: row.id });
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

describe("seal numbers and anchors: a cut tail", () => {
  const anchorNow = async () => {
    const head = await latestSeal(t.db);
    return { seq: head!.seq, digest: head!.digest };
  };

  it("numbers seals 1, 2, 3... and names a hole, even where the neighbours still chain", async () => {
    await writeSealedLog(4, 1);
    expect((await listSeals(t.db)).map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    // Seal #3 goes and #4 is re-pointed at #2's end: the txid ranges chain again, the number does not.
    await exec(sql`update audit_seals set from_txid = (select to_txid from audit_seals where seq = 2) where seq = 4`);
    await exec(sql`delete from audit_seals where seq = 3`);
    const report = await verifyAuditLog(t.db, { seal: false });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "seal_missing", sealSeq: 4 });
    expect(report.problem!.message).toBe("Seal #3 is missing before seal #4 (seal numbers run without gaps): a seal was deleted.");
  });

  it("the audit-log index migrations (0003, 0011) skip an index an operator built ahead with CONCURRENTLY", async () => {
    // README "Rolling upgrades": on a large log the operator builds these indexes without blocking
    // writes, then migrates. Here every index exists already (the database is migrated): the files
    // must run again without an error and leave exactly one index of each name.
    for (const name of ["0003_audit_detail_indexes.sql", "0011_audit_problem_index.sql"]) {
      const statements = fs
        .readFileSync(path.join(MIGRATIONS_FOLDER, name), "utf8")
        .split("--> statement-breakpoint")
        .map((st) => st.trim())
        .filter((st) => /ON "audit_events"/.test(st));
      expect(statements.length).toBeGreaterThan(0);
      for (const st of statements) await exec(sql.raw(st));
    }
    const indexes = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from pg_indexes where tablename = 'audit_events'
          and indexname in ('audit_events_detail_api_key_time_idx', 'audit_events_detail_user_time_idx', 'audit_events_problem_time_idx')`,
    );
    expect(Number(indexes[0]!.n)).toBe(3);
  });

  it("migration 0008 renumbers the old sequence's seals (on from an archive checkpoint) and moves the sequence along", async () => {
    await writeSealedLog(3, 1);
    // What the old bigserial could leave: holes (rolled-back seals), here after an archive up to #5.
    await exec(sql`update audit_seals set seq = seq * 10 + 20`);
    await exec(sql`insert into audit_archives (from_seal, to_seal, to_txid, last_digest, event_count, file, sha256, hmac)
                   values (1, 5, 0, 'd', 0, 'audit-seals-1-5.ndjson', 's', 'h')`);
    const file = fs.readFileSync(path.join(MIGRATIONS_FOLDER, "0008_security_hardening.sql"), "utf8");
    const statements = file
      .split("--> statement-breakpoint")
      .map((st) => st.replace(/^\s*(--[^\n]*\n)*/g, "").trim())
      .filter((st) => /^(UPDATE "audit_seals"|SELECT setval)/.test(st));
    expect(statements).toHaveLength(3);
    for (const st of statements) await exec(sql.raw(st));
    expect((await listSeals(t.db)).map((s) => s.seq)).toEqual([6, 7, 8]);

    // The sealer continues with #9; a previous release's sealer, inserting through the default, with #10.
    await writeSealedLog(1, 1);
    const [viaDefault] = await queryRows<{ seq: number | string }>(
      t.db,
      sql`insert into audit_seals (from_txid, to_txid, row_count, first_event_id, last_event_id, event_ids, digest)
          select to_txid, to_txid, 0, first_event_id, last_event_id, event_ids, digest from audit_seals order by seq desc limit 1
          returning seq`,
    );
    expect((await listSeals(t.db)).map((s) => Number(s.seq))).toEqual([6, 7, 8, 9, 10]);
    expect(Number(viaDefault!.seq)).toBe(10);
  });

  it("reports the newest seal as the anchor to keep, and a log that grew since an anchor still reaches it", async () => {
    await writeSealedLog(2, 2);
    const anchor = await anchorNow();
    expect(anchor.seq).toBe(2);
    await writeSealedLog(2, 2);
    const report = await verifyAuditLog(t.db, { anchor });
    expect(report).toMatchObject({ ok: true, sealsChecked: 4, anchor, latest: { seq: 4 } });
    // A bare digest is found among the seals too.
    expect((await verifyAuditLog(t.db, { anchor: { seq: null, digest: anchor.digest } })).ok).toBe(true);
  });

  it("names the newest seal deleted with its events", async () => {
    const ids = await writeSealedLog(3, 2);
    const anchor = await anchorNow();
    await exec(
      sql`delete from audit_events where id in (${sql.join(
        ids[2]!.map((id) => sql`${id}::uuid`),
        sql`, `,
      )})`,
    );
    await exec(sql`delete from audit_seals where seq = 3`);
    const report = await verifyAuditLog(t.db, { anchor });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "tail_cut", sealSeq: 3 });
    expect(report.problem!.message).toBe(
      "The anchor names seal #3, but the newest seal is #2: the log's tail was cut (seals and their events deleted) since the anchor was taken.",
    );
  });

  it("names the newest three seals deleted (their events sealed again)", async () => {
    await writeSealedLog(6, 2);
    const anchor = await anchorNow();
    await exec(sql`delete from audit_seals where seq >= 4`);
    // verify seals the orphaned events afresh, as one new seal #4: it does not reach the anchor.
    const report = await verifyAuditLog(t.db, { anchor });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "tail_cut", sealSeq: 6 });
    expect(report.latest!.seq).toBe(4);
    // Named by its bare digest, the anchored seal is not found either.
    expect((await verifyAuditLog(t.db, { anchor: { seq: null, digest: anchor.digest } })).problem).toMatchObject({ kind: "tail_cut" });
  });

  it("names every seal and the oldest 5,000 events deleted", async () => {
    for (let b = 0; b < 6; b++) {
      await t.db.transaction((tx) =>
        recordAudits(
          tx,
          Array.from({ length: 1000 }, (_, i) => ({ actor, action: "user.disabled" as const, target: { type: "user", id: `u-${b}-${i}` } })),
          NO_REQUEST,
        ),
      );
      await sealAll(t.db);
    }
    const anchor = await anchorNow();
    expect(anchor.seq).toBe(6);
    await exec(sql`delete from audit_seals`);
    await exec(sql`delete from audit_events where id in (select id from audit_events order by id limit 5000)`);
    const report = await verifyAuditLog(t.db, { anchor });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatchObject({ kind: "tail_cut", sealSeq: 6 });
    // What is left verifies on its own: only the anchor tells the cut.
    expect(report.latest!.seq).toBe(1);
  });

  it("reads an anchor from what `audit anchor` prints or appends, newest line last", () => {
    const d1 = "A".repeat(43);
    const d2 = `${"b_-".repeat(14)}c`;
    expect(parseAnchorText(`12:${d1}`)).toEqual({ seq: 12, digest: d1 });
    expect(parseAnchorText(`2025-01-01T00:00:00.000Z 12:${d1}\n2025-01-02T00:00:00.000Z 40:${d2}\n\n`)).toEqual({ seq: 40, digest: d2 });
    expect(parseAnchorText(d2)).toEqual({ seq: null, digest: d2 });
    expect(parseAnchorText("12:short")).toBeNull();
    expect(parseAnchorText("nothing here")).toBeNull();
  });
});
