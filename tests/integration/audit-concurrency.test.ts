/**
 * Appending does not serialise writers, yet the sealer never skips or double-seals a row: many
 * overlapping transactions write events while the sealer runs again and again. On PostgreSQL the
 * transactions really overlap (which is what the xmin horizon in seal.ts exists for); on PGlite the
 * same test runs serialised and must hold too.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { recordAudit } from "@/lib/audit/record";
import { listSeals, sealAll, sealAuditLog, unpackIds } from "@/lib/audit/seal";
import { verifyAuditLog } from "@/lib/audit/verify";
import type { Actor } from "@/lib/context";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const WRITERS = 50;
const actor: Actor = { type: "system", id: "system", name: "concurrency test" };

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ maxConnections: 30 });
});
afterAll(async () => {
  await t.close();
});

describe("audit log under concurrent writers", () => {
  it(`seals each of ${WRITERS} concurrently written transactions exactly once and verifies`, async () => {
    let writing = true;
    const sealerRuns: number[] = [];
    const sealer = (async () => {
      while (writing) {
        sealerRuns.push(await sealAuditLog(t.db));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();

    const written = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) =>
        t.db.transaction(async (tx) => {
          const first = await recordAudit(
            tx,
            { actor, action: "device.login", target: { type: "device", id: `d-${i}` } },
            {
              requestId: `r-${i}`,
              ip: null,
              userAgent: null,
            },
          );
          // Hold the transaction open a moment so that writers and the sealer interleave.
          await tx.execute(sql`select pg_sleep(${(i % 5) * 0.01})`);
          const second = await recordAudit(
            tx,
            { actor, action: "device.tokens_revoked", target: { type: "device", id: `d-${i}` } },
            {
              requestId: `r-${i}`,
              ip: null,
              userAgent: null,
            },
          );
          return [first, second];
        }),
      ),
    );
    writing = false;
    await sealer;
    await sealAll(t.db);

    const allIds = written.flat();
    expect(new Set(allIds).size).toBe(WRITERS * 2);

    const report = await verifyAuditLog(t.db, { seal: false });
    expect(report).toMatchObject({ ok: true, eventsChecked: WRITERS * 2, unsealedEvents: 0, problem: null });

    // Every event appears in exactly one seal, and the seals' ranges tile the txid line.
    const seals = await listSeals(t.db);
    const sealed = seals.flatMap((s) => unpackIds(s.eventIds));
    expect(sealed).toHaveLength(WRITERS * 2);
    expect(new Set(sealed)).toEqual(new Set(allIds));
    for (let i = 1; i < seals.length; i++) expect(seals[i]!.fromTxid).toBe(seals[i - 1]!.toTxid);
    expect(seals.reduce((n, s) => n + s.rowCount, 0)).toBe(WRITERS * 2);

    // Both events of one transaction always land in the same seal (a seal covers whole transactions).
    const sealOf = new Map<string, number>();
    for (const s of seals) for (const id of unpackIds(s.eventIds)) sealOf.set(id, s.seq);
    for (const [a, b] of written) expect(sealOf.get(a!)).toBe(sealOf.get(b!));

    const [count] = await queryRows<{ n: number }>(t.db, sql`select count(*)::int as n from audit_events`);
    expect(Number(count!.n)).toBe(WRITERS * 2);
    expect(sealerRuns.length).toBeGreaterThan(0);
  });
});
