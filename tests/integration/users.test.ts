/**
 * Users and sign-in tokens in the domain core, on PGlite and PostgreSQL: what an API key, each staff
 * role and an SDK user may see and do, search and keyset pages, disable/delete ending sessions, and
 * sign-in tokens issued by keys and staff (reason, qa in sandbox only, auditor refused, expiry by an
 * injected clock), with audit events that never contain a secret.
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { apiKeys, auditEvents, sdkSessions, users, webhookDeliveries } from "@/db/schema";
import { type ApiKeyScope, apiKeyActor, authenticateApiKey, createApiKey, revokeApiKey } from "@/lib/api-keys";
import { config } from "@/lib/config/env";
import { type Actor, type RequestMeta, systemActor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { authenticateBearer } from "@/lib/oauth/bearer";
import { OAuthError } from "@/lib/oauth/errors";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { refreshSdkSession } from "@/lib/oauth/refresh";
import { clearSigningKeyCache, ensureSigningKey } from "@/lib/oauth/signing-keys";
import { deploymentTeamId } from "@/lib/settings/deployment";
import { getSignInTokenStatus, issueSignInToken, parseSignInToken } from "@/lib/sign-in-tokens";
import type { StaffRole } from "@/lib/staff/rbac";
import {
  countUsers,
  createUser,
  deleteUser,
  getUser,
  listUserSessions,
  listUsers,
  resolveByClientUserId,
  revokeAllSessions,
  revokeSession,
  searchUsers,
  setUserDisabled,
  TOTAL_EXACT_UP_TO,
  updateUser,
  usersActivity,
} from "@/lib/users";
import { encodeCursor } from "@/lib/users/search";
import { createWebhookEndpoint } from "@/lib/webhooks/endpoints";
import { fanOutAll } from "@/lib/webhooks/outbox";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

const system = systemActor("test");
const meta: RequestMeta = { requestId: "req-users", ip: "203.0.113.9", userAgent: "vitest" };
const staffActor = (role: StaffRole): Actor => ({
  type: "staff",
  id: `00000000-0000-7000-8000-00000000000${"asqd".indexOf(role[0]!) + 1}`,
  name: `${role}@example.test`,
  role,
});
const admin = staffActor("admin");
const support = staffActor("support");
const qa = staffActor("qa");
const auditor = staffActor("auditor");

let t: TestDatabase;
let run = 0;
const uniq = (s: string) => `${s}-${++run}-${Math.random().toString(36).slice(2, 8)}`;
const secrets: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  clearSigningKeyCache();
  await ensureSigningKey(t.db);
});
afterAll(async () => {
  clearSigningKeyCache();
  await t.close();
});

async function keyActor(environment: "sandbox" | "production", region = "us", scopes: ApiKeyScope[] | "all" = "all") {
  const { key } = await createApiKey(
    t.db,
    system,
    { name: uniq("key"), environment, region, scopes: scopes === "all" ? ["users:read", "users:write", "sign_in_tokens:write", "tokens:introspect"] : scopes },
    meta,
  );
  secrets.push(key);
  return { key, actor: apiKeyActor(await authenticateApiKey(t.db, key, null)) };
}

async function fails(p: Promise<unknown>, status: number, code: string): Promise<DomainError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${status} ${code}`).toBeInstanceOf(DomainError);
  expect({ status: (err as DomainError).status, code: (err as DomainError).code }).toEqual({ status, code });
  return err as DomainError;
}

async function grantFails(p: Promise<unknown>, descriptionStart: string) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  expect((err as OAuthError).error).toBe("invalid_grant");
  expect((err as OAuthError).description.startsWith(descriptionStart), (err as OAuthError).description).toBe(true);
}

async function signIn(actor: Actor, userId: string, installationId = uniq("inst")) {
  const issued = await issueSignInToken(t.db, actor, userId, {}, meta);
  secrets.push(issued.signInToken);
  const tokens = await exchangeSignInToken(t.db, { signInToken: issued.signInToken, installationId }, meta);
  secrets.push(tokens.refresh_token, tokens.access_token);
  return tokens;
}

const auditOf = (action: string, targetId?: string) =>
  t.db
    .select()
    .from(auditEvents)
    .where(targetId ? and(eq(auditEvents.action, action), eq(auditEvents.targetId, targetId)) : eq(auditEvents.action, action));

describe("creating and reading users with API keys", () => {
  it("creates in the key's environment and region, audits it, and refuses a taken client user id naming the user", async () => {
    const { actor } = await keyActor("production", "eu");
    const cid = uniq("client");
    const user = await createUser(t.db, actor, { client_user_id: cid, email: "Ann@Example.test", name: "Ann Lee" }, meta);
    expect(user).toMatchObject({ clientUserId: cid, environment: "production", region: "eu", status: "active" });
    const [ev] = await auditOf("user.created", user.id);
    expect(ev).toMatchObject({ actorType: "api_key", actorId: actor.id, environment: "production", outcome: "success" });

    const err = await fails(createUser(t.db, actor, { client_user_id: cid }, meta), 409, "client_user_id_taken");
    expect(err.extra.user_id).toBe(user.id);
    // The same client user id in another environment is another user.
    const { actor: sandbox } = await keyActor("sandbox", "eu");
    expect((await createUser(t.db, sandbox, { client_user_id: cid }, meta)).id).not.toBe(user.id);
  });

  it("answers 404 for another environment's or region's user, bad ids and unknown client ids", async () => {
    const { actor: us } = await keyActor("sandbox", "us");
    const { actor: eu } = await keyActor("sandbox", "eu");
    const { actor: prod } = await keyActor("production", "us");
    const user = await createUser(t.db, us, { client_user_id: uniq("c") }, meta);
    expect((await getUser(t.db, us, user.id)).id).toBe(user.id);
    await fails(getUser(t.db, eu, user.id), 404, "user_not_found");
    await fails(getUser(t.db, prod, user.id), 404, "user_not_found");
    await fails(getUser(t.db, us, "not-a-uuid"), 404, "user_not_found");
    expect((await resolveByClientUserId(t.db, us, user.clientUserId)).id).toBe(user.id);
    await fails(resolveByClientUserId(t.db, prod, user.clientUserId), 404, "user_not_found");
  });

  it("refuses a key without the scope", async () => {
    const { actor } = await keyActor("sandbox", "us", ["users:read"]);
    await fails(createUser(t.db, actor, { client_user_id: uniq("c") }, meta), 403, "insufficient_scope");
  });

  it("lets an SDK user read itself only", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const me = await createUser(t.db, actor, { client_user_id: uniq("me") }, meta);
    const other = await createUser(t.db, actor, { client_user_id: uniq("other") }, meta);
    const tokens = await signIn(actor, me.id);
    const who = await authenticateBearer(t.db, tokens.access_token);
    expect((await getUser(t.db, who.actor, me.id)).id).toBe(me.id);
    await fails(getUser(t.db, who.actor, other.id), 403, "forbidden");
  });
});

describe("searching users", () => {
  it("finds by user id, client user id, email and name (exact, prefix, substring) and pages without gaps", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const tag = uniq("zq").replace(/-/g, "");
    const made = [];
    for (const [i, name] of ["Grace Hopper", "Alan Turing", "Ada Lovelace", "Edsger Dijkstra", "Barbara Liskov"].entries()) {
      made.push(
        await createUser(
          t.db,
          actor,
          { client_user_id: `${tag}_user_${i}`, email: `${name.split(" ")[0]!.toLowerCase()}.${tag}@example.test`, name: `${name} ${tag}` },
          meta,
        ),
      );
    }
    const ids = (p: { users: { id: string }[] }) => p.users.map((u) => u.id).sort();
    expect(ids(await searchUsers(t.db, admin, { q: made[2]!.id }))).toEqual([made[2]!.id]);
    expect(ids(await searchUsers(t.db, admin, { q: `${tag}_user_3` }))).toEqual([made[3]!.id]);
    expect(ids(await searchUsers(t.db, admin, { q: `${tag.toUpperCase()}_USER` }))).toEqual(ids({ users: made }));
    expect(ids(await searchUsers(t.db, admin, { q: `grace.${tag}` }))).toEqual([made[0]!.id]);
    expect(ids(await searchUsers(t.db, admin, { q: `turing ${tag}` }))).toEqual([made[1]!.id]);
    expect(ids(await searchUsers(t.db, admin, { q: `love` }))).toContain(made[2]!.id);
    // LIKE metacharacters are text, not wildcards.
    expect((await searchUsers(t.db, admin, { q: `${tag}%` })).users).toEqual([]);
    expect((await searchUsers(t.db, admin, { q: `'; drop table users; --` })).users).toEqual([]);

    await setUserDisabled(t.db, admin, made[4]!.id, true, { reason: "test" }, meta);
    expect(ids(await searchUsers(t.db, admin, { q: tag, status: "disabled" }))).toEqual([made[4]!.id]);
    expect(ids(await searchUsers(t.db, admin, { q: tag, status: "active" }))).not.toContain(made[4]!.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof searchUsers>> = await searchUsers(t.db, actor, { q: tag, limit: 2, cursor });
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users.map((u) => u.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse().map((u) => u.id)); // newest first, each once
    await fails(searchUsers(t.db, actor, { cursor: "garbage" }), 400, "invalid_cursor");
  });

  it("pages the same rows in the same order whichever path answers (newest rows, ordered walk, bitmap)", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const tag = uniq("cq").replace(/-/g, "");
    for (let i = 0; i < 7; i++) {
      await createUser(
        t.db,
        actor,
        { client_user_id: `${tag}-${i}`, email: i % 2 ? `odd.${tag}.${i}@example.test` : null, name: i === 3 ? `Ida ${tag}` : null },
        meta,
      );
    }
    const walk = async (q: string, path?: "walk" | "bitmap", bitmapCap?: number) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof searchUsers>> = await searchUsers(t.db, admin, { q, limit: 2, cursor }, { path, bitmapCap });
        seen.push(...page.users.map((u) => u.id));
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };
    // Each path forced, the bitmap over its cap, and the default choice (the probe sees every row here).
    for (const q of [tag, `odd.${tag}`, `${tag}-3`, `ida ${tag}`]) {
      const expected = await walk(q, "walk");
      expect(expected.length).toBeGreaterThan(0);
      expect(await walk(q, "bitmap")).toEqual(expected);
      expect(await walk(q, "bitmap", 2)).toEqual(expected); // over the cap: falls back to the walk
      expect(await walk(q)).toEqual(expected);
    }
    expect(await walk(tag)).toHaveLength(7);
    expect(await walk(`nomatch${tag}`)).toEqual([]);

    // Exact and prefix matches answer before substrings, on every page and whichever path answers.
    const early = [];
    for (let i = 0; i < 3; i++) early.push(await createUser(t.db, actor, { client_user_id: `px${tag}-${i}` }, meta));
    const inner = [];
    for (let i = 0; i < 2; i++) inner.push(await createUser(t.db, actor, { client_user_id: `zz-px${tag}-${i}`, email: `in.px${tag}.${i}@example.test` }, meta));
    const newestFirst = (list: Array<{ id: string }>) => [...list].reverse().map((u) => u.id);
    for (const path of [undefined, "walk", "bitmap"] as const) {
      expect(await walk(`px${tag}`, path)).toEqual(newestFirst(early)); // prefix matches only, two pages
      expect(await walk(`px${tag}-1`, path)).toEqual([early[1]!.id]); // the exact one
      expect(await walk(`-px${tag}`, path)).toEqual(newestFirst(inner)); // no prefix match: substrings
    }

    // A whole UUID: the user with that id, and prefixes, but not a substring in the middle.
    const target = (await searchUsers(t.db, admin, { q: `${tag}-3` })).users[0]!;
    const prefixed = await createUser(t.db, actor, { client_user_id: `${target.id}-device` }, meta);
    await createUser(t.db, actor, { client_user_id: `tenant:${target.id}` }, meta);
    expect((await searchUsers(t.db, admin, { q: target.id.toUpperCase() })).users.map((u) => u.id).sort()).toEqual([target.id, prefixed.id].sort());
  });

  it("answers an exact match in one statement the indexes serve, before any substring, and a common prefix past its cap as before", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const tag = uniq("ex").replace(/-/g, "");
    const exact = await createUser(t.db, actor, { client_user_id: tag, email: `${tag}@example.test`, name: `Exact ${tag}` }, meta);
    // `tag` is a substring of these users' client user ids and emails, not a prefix.
    const inner = [];
    for (let i = 0; i < 3; i++) inner.push(await createUser(t.db, actor, { client_user_id: `x${tag}y${i}`, email: `a.${tag}.${i}@example.test` }, meta));
    const statements: SQL[] = [];
    const search = async (q: string, o: { earlyCap?: number; cursor?: string | null; limit?: number } = {}) => {
      statements.length = 0;
      return searchUsers(t.db, admin, { q, cursor: o.cursor, limit: o.limit }, { onStatement: (s) => statements.push(s), earlyCap: o.earlyCap });
    };
    for (const q of [tag.toUpperCase(), exact.id, `${tag}@Example.test`]) {
      expect((await search(q)).users.map((u) => u.id)).toEqual([exact.id]);
      expect(statements).toHaveLength(1);
    }
    // Nothing by prefix: the substrings, newest first, from the same single statement.
    expect((await search(`.${tag}.`)).users.map((u) => u.id)).toEqual([...inner].reverse().map((u) => u.id));
    expect(statements).toHaveLength(1);
    // More substring matches than the bitmap's cap: the ordered walk answers, with the same rows.
    statements.length = 0;
    const overCap = await searchUsers(t.db, admin, { q: `.${tag}.` }, { onStatement: (s) => statements.push(s), bitmapCap: 1 });
    expect(overCap.users.map((u) => u.id)).toEqual([...inner].reverse().map((u) => u.id));
    expect(statements).toHaveLength(2);

    // The search's statements (the generic plans users_search_page keeps: migration 0013) read the
    // primary key, the prefix indexes by range, the time index for the newest rows and the trigram
    // index for substrings: never the whole table. Seen in this transaction's counters, with its
    // plans made afresh and sequential scans off (on a small table they would be the cheapest).
    for (const [q, indexes] of [
      [exact.id, ["users_pkey", "users_client_user_id_prefix_idx", "users_email_prefix_idx", "users_name_prefix_idx"]],
      [tag, ["users_created_idx", "users_client_user_id_prefix_idx", "users_email_prefix_idx", "users_name_prefix_idx"]],
      [`.${tag}.`, ["users_created_idx", "users_client_user_id_prefix_idx", "users_email_prefix_idx", "users_name_prefix_idx", "users_search_trgm_idx"]],
    ] as const) {
      const read = await t.db.transaction(async (tx) => {
        await tx.execute(sql`discard plans`);
        await tx.execute(sql`set local enable_seqscan = off`);
        // Sequential scans of users, and scans of each of its indexes, by this connection (the
        // counters also hold its last second's statements until they are reported: hence the difference).
        const scans = async () =>
          new Map(
            (
              await queryRows<{ name: string; n: number | string }>(
                tx,
                sql`select 'users' as name, pg_stat_get_xact_numscans('users'::regclass) as n
                    union all
                    select c.relname, pg_stat_get_xact_numscans(c.oid) from pg_index i join pg_class c on c.oid = i.indexrelid
                    where i.indrelid = 'users'::regclass`,
              )
            ).map((r) => [r.name, Number(r.n)]),
          );
        const before = await scans();
        statements.length = 0;
        // A probe of one row: on this small table the default probe reads every row and answers.
        const found = await searchUsers(tx, admin, { q }, { onStatement: (s) => statements.push(s), probe: 1 });
        const after = await scans();
        const used = [...after].filter(([name, n]) => n > (before.get(name) ?? 0)).map(([name]) => name);
        return { found: found.users.length, seqScans: used.includes("users"), indexes: used.filter((name) => name !== "users") };
      });
      expect(read.found, q).toBeGreaterThan(0);
      expect(statements, q).toHaveLength(1);
      expect(read.seqScans, q).toBe(false);
      expect(read.indexes, q).toEqual(expect.arrayContaining([...indexes]));
    }

    // A prefix with more matches than the cap: the same pages as a walk of every match, whether the
    // newest rows hold a page of it (one statement) or not (a probe of one row: past the cap, the
    // bitmap or the walk answers in a second statement).
    const many = [];
    for (let i = 0; i < 5; i++) many.push(await createUser(t.db, actor, { client_user_id: `${tag}-many-${i}` }, meta));
    const pages = async (q: string, o: { earlyCap?: number; probe?: number } = {}) => {
      const seen: string[] = [];
      const sent: number[] = [];
      let cursor: string | null = null;
      do {
        statements.length = 0;
        const page: Awaited<ReturnType<typeof searchUsers>> = await searchUsers(
          t.db,
          admin,
          { q, cursor, limit: 2 },
          { onStatement: (s) => statements.push(s), earlyCap: o.earlyCap, probe: o.probe },
        );
        seen.push(...page.users.map((u) => u.id));
        sent.push(statements.length);
        cursor = page.nextCursor;
      } while (cursor);
      return { seen, sent };
    };
    const expected = [...many].reverse().map((u) => u.id);
    expect(await pages(`${tag}-many`)).toEqual({ seen: expected, sent: [1, 1, 1] });
    expect((await pages(`${tag}-many`, { earlyCap: 2 })).seen).toEqual(expected);
    const capped = await pages(`${tag}-many`, { earlyCap: 2, probe: 1 });
    expect(capped.seen).toEqual(expected);
    expect(capped.sent[0]).toBe(2);
    expect((await pages(tag, { earlyCap: 2, probe: 1 })).seen).toEqual([...expected, exact.id]);
    expect((await pages(tag, { probe: 1 })).seen).toEqual([...expected, exact.id]);
  });

  it("searches a substring newest first in windows of time: the same pages as a walk when matches straddle the windows' edges", async () => {
    // 400 users two to a second (ties on created_at), below a cursor no other test's users reach, so
    // the probe and the windows (migration 0015) see these alone. A window's lower edge is the newest
    // time minus whole multiples of the probe's span, so it falls on a second holding two users: a
    // window that dropped its edge, or counted it twice, would change a page.
    const tag = uniq("win").replace(/-/g, "");
    const base = Date.parse("2000-12-31T00:00:00Z");
    const patterns: Record<string, (s: number, r: number) => boolean> = {
      dense: (s) => s % 3 === 0, // both users of every third second
      tie: (s, r) => s % 7 === 0 || (s % 5 === 0 && r === 1),
      sparse: (s, r) => s % 17 === 0 && r === 0,
      top: (s) => s < 4 || s % 40 === 0, // a burst among the newest, then far apart
      edge: (s, r) => r === 0 && [0, 12, 60, 80, 120, 160].includes(s), // one each on some windows' last edges
    };
    const cursor = encodeCursor({ t: "2001-01-01T00:00:00.000000Z", id: "ffffffff-ffff-ffff-ffff-ffffffffffff", m: "substring" });
    const rollback = new Error("rollback");
    await expect(
      t.db.transaction(async (tx) => {
        const rows = [];
        for (let s = 0; s < 200; s++) {
          for (let r = 0; r < 2; r++) {
            const terms = Object.entries(patterns)
              .filter(([, match]) => match(s, r))
              .map(([name]) => `w${name}${tag}d`);
            rows.push(
              sql`(${crypto.randomUUID()}::uuid, 'sandbox', 'us', ${`${tag}-${s}-${r}`}, ${`a.${terms.join(".") || "none"}.${s}@example.test`}, null, ${new Date(base - s * 1000).toISOString()}::timestamptz)`,
            );
          }
        }
        await tx.execute(sql`insert into users (id, environment, region, client_user_id, email, name, created_at) values ${sql.join(rows, sql`, `)}`);
        const pages = async (q: string, limit: number, probe: number, path?: "walk") => {
          const seen: string[] = [];
          let next: string | null = cursor;
          do {
            const page: Awaited<ReturnType<typeof searchUsers>> = await searchUsers(tx, admin, { q, cursor: next, limit }, { probe, path });
            seen.push(...page.users.map((u) => u.id));
            next = page.nextCursor;
          } while (next);
          return seen;
        };
        for (const name of Object.keys(patterns)) {
          const q = `w${name}${tag}d`;
          const expected = await pages(q, 200, 1000, "walk");
          expect(expected.length, q).toBe(rows.filter((_, i) => patterns[name]!(Math.floor(i / 2), i % 2)).length);
          expect(new Set(expected).size, q).toBe(expected.length);
          for (const probe of [4, 6, 10])
            for (const limit of [1, 2, 3, 5]) expect(await pages(q, limit, probe), `${q} probe ${probe} limit ${limit}`).toEqual(expected);
        }
        // The windows answered (not the whole bitmap): the page of `dense` after a probe of 6 users (3
        // seconds, 2 matches) came from a window reaching its edge, 6 seconds back, and the function
        // counted the matches it read (3), not all 134.
        const [first] = await queryRows<{ matched: number | string }>(
          tx,
          sql`select matched from users_search_page(${`wdense${tag}d`}, null, null, false, ${`%wdense${tag}d%`}, '{sandbox}', null, null,
                '2001-01-01T00:00:00Z', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 3, 500, 20000, 6)`,
        );
        expect(Number(first!.matched)).toBe(3);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
  });

  it("finds every substring match of the lower-cased client user id, email and name: the same rows, order and counts, over the bitmap's cap, after edits too", async () => {
    // The whole-bitmap statement (migration 0016) counts its matches and sorts its page from one
    // materialized set: compared here with the search's text written out, for mixed case, missing
    // emails and names, and ties, in pages of 3, by the function's count, and past a cap of 3.
    const tag = uniq("st").replace(/-/g, "");
    const base = Date.parse("1999-12-31T00:00:00Z");
    const cursor = encodeCursor({ t: "2000-01-01T00:00:00.000000Z", id: "ffffffff-ffff-ffff-ffff-ffffffffffff", m: "substring" });
    const expression = sql.raw(`(lower(client_user_id) || ' ' || coalesce(lower(email), '') || ' ' || coalesce(lower(name), ''))`);
    const rollback = new Error("rollback");
    await expect(
      t.db.transaction(async (tx) => {
        const rows = [];
        // Oldest first, so that the bitmap meets the rows in the reverse of the page's order.
        for (let i = 39; i >= 0; i--) {
          const client = i % 3 === 0 ? `CU-${tag}-${i}` : `acct-${tag}-${i}`;
          const email = i % 4 === 0 ? null : `${i % 2 ? "Anna" : "BEN"}.Fi${i % 5}.${tag}@Example.TEST`;
          const name = i % 3 === 1 ? null : `${i % 2 ? "Anna" : "Ben"} Fi${i % 5} ${tag.toUpperCase()}`;
          // Two users a second: ties on created_at, broken by id.
          rows.push(
            sql`(${crypto.randomUUID()}::uuid, 'sandbox', 'us', ${client}, ${email}, ${name}, ${new Date(base - Math.floor(i / 2) * 1000).toISOString()}::timestamptz)`,
          );
        }
        await tx.execute(sql`insert into users (id, environment, region, client_user_id, email, name, created_at) values ${sql.join(rows, sql`, `)}`);
        const expected = async (q: string) =>
          (
            await queryRows<{ id: string }>(
              tx,
              sql`select id from users where environment = 'sandbox' and deleted_at is null and created_at < '2000-01-01T00:00:00Z'
                    and ${expression} like ${`%${q}%`} order by created_at desc, id desc`,
            )
          ).map((r) => r.id);
        const pages = async (q: string, bitmapCap?: number) => {
          const seen: string[] = [];
          let next: string | null = cursor;
          do {
            const page: Awaited<ReturnType<typeof searchUsers>> = await searchUsers(
              tx,
              admin,
              { q, cursor: next, limit: 3, environment: "sandbox" },
              { probe: 2, bitmapCap },
            );
            seen.push(...page.users.map((u) => u.id));
            next = page.nextCursor;
          } while (next);
          return seen;
        };
        // The function's count when its bitmap reads the matches (a one-row probe, a page larger than
        // them all): every match, or the probe's plus cap + 1 when there are more.
        const matched = async (q: string, cap = 20000) =>
          Number(
            (
              await queryRows<{ matched: number | string }>(
                tx,
                sql`select max(matched) as matched from users_search_page(${q}, null, null, false, ${`%${q}%`}, '{sandbox}', null, null,
                      '2000-01-01T00:00:00Z', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 1000, 500, ${cap}::int, 1)`,
              )
            )[0]?.matched ?? 0,
          );
        const [newest] = await queryRows<{ id: string }>(
          tx,
          sql`select id from users where environment = 'sandbox' and created_at < '2000-01-01T00:00:00Z' order by created_at desc, id desc limit 1`,
        );
        const terms = [tag, `cu-${tag}`, `ben.fi2.${tag}`, `fi3 ${tag}`, `${tag}@example.test`, `${tag}-1`, `example.test ben`, `cu-${tag}-3`];
        for (const q of terms) {
          const want = await expected(q);
          expect(want.length, q).toBeGreaterThan(0);
          expect(await pages(q), q).toEqual(want);
          expect(await pages(q, 3), `${q} past a cap of 3`).toEqual(want); // a count past the cap: the ordered walk
          expect(await matched(q), q).toBe(want.length);
          const inProbe = want[0] === newest!.id ? 1 : 0;
          expect(await matched(q, 3), `${q} cap 3`).toBe(inProbe + Math.min(4, want.length - inProbe));
        }
        expect(await pages(`zz${tag}`)).toEqual([]);

        // An edit changes what is found at once.
        const [one] = await expected(`cu-${tag}-3 `);
        expect(await pages(`fi3 ${tag}`)).toContain(one);
        await tx.execute(sql`update users set email = ${`Carla.Renamed.${tag}@Example.TEST`}, name = null where id = ${one}::uuid`);
        expect(await pages(`carla.renamed.${tag}`)).toEqual([one]);
        expect(await expected(`carla.renamed.${tag}`)).toEqual([one]);
        expect(await pages(`fi3 ${tag}`)).not.toContain(one);
        for (const q of terms) expect(await pages(q), q).toEqual(await expected(q));
        throw rollback;
      }),
    ).rejects.toBe(rollback);
  });

  it("shows qa only sandbox, refuses qa asking for production, and keeps keys to their own environment", async () => {
    const { actor: sb } = await keyActor("sandbox", "us");
    const { actor: pr } = await keyActor("production", "us");
    const tag = uniq("envtag").replace(/-/g, "");
    const inSandbox = await createUser(t.db, sb, { client_user_id: `${tag}-a` }, meta);
    const inProd = await createUser(t.db, pr, { client_user_id: `${tag}-b` }, meta);
    expect((await searchUsers(t.db, qa, { q: tag })).users.map((u) => u.id)).toEqual([inSandbox.id]);
    await fails(searchUsers(t.db, qa, { q: tag, environment: "production" }), 403, "forbidden");
    expect((await searchUsers(t.db, support, { q: tag })).users).toHaveLength(2);
    expect((await searchUsers(t.db, auditor, { q: tag, environment: "production" })).users.map((u) => u.id)).toEqual([inProd.id]);
    expect((await searchUsers(t.db, pr, { q: tag })).users.map((u) => u.id)).toEqual([inProd.id]);
    await fails(getUser(t.db, qa, inProd.id), 403, "forbidden");
  });
});

describe("Junction's user list and team id", () => {
  it("lists the key's live users newest first by offset, with an exact total, and refuses staff", async () => {
    const key = (await keyActor("sandbox", "eu")).actor;
    const other = (await keyActor("production", "eu")).actor;
    const mine: string[] = [];
    for (let i = 0; i < 4; i++) mine.push((await createUser(t.db, key, { client_user_id: uniq("list") }, meta)).id);
    await createUser(t.db, other, { client_user_id: uniq("list-other") }, meta);
    await deleteUser(t.db, key, mine[1]!, {}, meta);
    const [live] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from users where environment = 'sandbox' and region = 'eu' and deleted_at is null`,
    );

    const page = await listUsers(t.db, key, { offset: 0, limit: 2 });
    expect(page.users.map((u) => u.id)).toEqual([mine[3], mine[2]]);
    expect(page).toMatchObject({ total: Number(live!.n), totalIsEstimate: false, offset: 0, limit: 2 });
    const next = await listUsers(t.db, key, { offset: 2, limit: 5 });
    expect(next.users.map((u) => u.id).slice(0, 1)).toEqual([mine[0]]); // the deleted one is skipped
    expect(next.users.every((u) => u.environment === "sandbox" && u.region === "eu" && u.status !== "deleted")).toBe(true);
    await expect(listUsers(t.db, admin, { offset: 0, limit: 2 })).rejects.toMatchObject({ status: 403 });
    const readless = (await keyActor("sandbox", "eu", ["users:write"])).actor;
    await expect(listUsers(t.db, readless, { offset: 0, limit: 2 })).rejects.toMatchObject({ code: "insufficient_scope" });
  });

  it("the deployment's team id is drawn once and stays the same", async () => {
    const first = await deploymentTeamId(t.db);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [row] = await queryRows<{ team_id: string }>(t.db, sql`select team_id from deployment`);
    expect(row!.team_id).toBe(first);
    expect(await deploymentTeamId(t.db)).toBe(first);
    // The table holds one row, whatever is tried.
    await expect(t.db.execute(sql`insert into deployment (id) values (2)`)).rejects.toThrow();
  });
});

describe("disabling, deleting and revoking", () => {
  it("disabling ends every token at once; staff must give a reason; auditors may not", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const user = await createUser(t.db, actor, { client_user_id: uniq("dis") }, meta);
    const tokens = await signIn(actor, user.id);
    const pending = await issueSignInToken(t.db, actor, user.id, {}, meta);
    secrets.push(pending.signInToken);

    await fails(setUserDisabled(t.db, support, user.id, true, { reason: "  " }, meta), 422, "reason_required");
    await fails(setUserDisabled(t.db, auditor, user.id, true, { reason: "no" }, meta), 403, "forbidden");
    await setUserDisabled(t.db, support, user.id, true, { reason: "fraud report #12" }, meta);

    await grantFails(refreshSdkSession(t.db, tokens.refresh_token, meta), "user_disabled");
    await fails(authenticateBearer(t.db, tokens.access_token), 401, "invalid_token");
    await grantFails(exchangeSignInToken(t.db, { signInToken: pending.signInToken }, meta), "user_disabled");
    await fails(issueSignInToken(t.db, actor, user.id, {}, meta), 409, "user_disabled");
    const [ev] = await auditOf("user.disabled", user.id);
    expect(ev).toMatchObject({ actorType: "staff", reason: "fraud report #12" });

    await setUserDisabled(t.db, actor, user.id, false, {}, meta);
    expect((await auditOf("user.enabled", user.id)).length).toBe(1);
    // Old sessions stay ended; a new sign-in works.
    await grantFails(refreshSdkSession(t.db, tokens.refresh_token, meta), "session_revoked");
    await signIn(actor, user.id);
  });

  it("deleting ends sessions with user_deleted, is admin-only for staff, and frees the client user id", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const user = await createUser(t.db, actor, { client_user_id: uniq("del") }, meta);
    const tokens = await signIn(actor, user.id);
    await fails(deleteUser(t.db, support, user.id, { reason: "asked" }, meta), 403, "forbidden");
    await fails(deleteUser(t.db, admin, user.id, {}, meta), 422, "reason_required");
    await deleteUser(t.db, admin, user.id, { reason: "GDPR erasure request" }, meta);
    await grantFails(refreshSdkSession(t.db, tokens.refresh_token, meta), "user_deleted");
    await fails(getUser(t.db, actor, user.id), 404, "user_not_found");
    await fails(deleteUser(t.db, actor, user.id, {}, meta), 404, "user_not_found");
    await fails(issueSignInToken(t.db, actor, user.id, {}, meta), 404, "user_not_found");
    expect((await getUser(t.db, admin, user.id)).status).toBe("deleted");
    expect((await createUser(t.db, actor, { client_user_id: user.clientUserId }, meta)).id).not.toBe(user.id);
  });

  it("staff revoke one session or all of them, with a reason, qa in sandbox only", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const { actor: prodKey } = await keyActor("production", "us");
    const user = await createUser(t.db, actor, { client_user_id: uniq("rev") }, meta);
    const a = await signIn(actor, user.id);
    const b = await signIn(actor, user.id);
    const c = await signIn(actor, user.id);
    const sessions = await listUserSessions(t.db, support, user.id);
    expect(sessions.map((s) => s.state)).toEqual(["active", "active", "active"]);

    const aSession = (await authenticateBearer(t.db, a.access_token)).sessionId;
    const target = sessions.find((s) => s.id === aSession)!;
    await fails(revokeSession(t.db, qa, target.id, {}, meta), 422, "reason_required");
    await fails(revokeSession(t.db, auditor, target.id, { reason: "x" }, meta), 403, "forbidden");
    expect((await revokeSession(t.db, qa, target.id, { reason: "lost phone" }, meta)).state).toBe("revoked");
    await grantFails(refreshSdkSession(t.db, a.refresh_token, meta), "session_revoked");
    await refreshSdkSession(t.db, b.refresh_token, meta);

    expect(await revokeAllSessions(t.db, support, user.id, { reason: "account takeover" }, meta)).toEqual({ revoked: 2 });
    await fails(authenticateBearer(t.db, c.access_token), 401, "invalid_token");
    expect((await auditOf("sdk_session.revoked")).filter((e) => e.details.userId === user.id)).toHaveLength(3);

    const prodUser = await createUser(t.db, prodKey, { client_user_id: uniq("p") }, meta);
    await signIn(prodKey, prodUser.id);
    await fails(revokeAllSessions(t.db, qa, prodUser.id, { reason: "x" }, meta), 403, "forbidden");
  });
});

describe("sign-in tokens", () => {
  it("are self-describing, default to the environment's lifetime and refuse lifetimes out of range", async () => {
    const { actor } = await keyActor("production", "eu");
    const user = await createUser(t.db, actor, { client_user_id: uniq("sit") }, meta);
    const now = new Date("2030-01-01T00:00:00Z");
    const issued = await issueSignInToken(t.db, actor, user.id, { now }, meta);
    secrets.push(issued.signInToken);
    expect(issued.signInToken).toMatch(/^sit_production_eu_[0-9A-Za-z]{49}$/);
    expect(parseSignInToken(issued.signInToken)).toEqual({ environment: "production", region: "eu" });
    expect(parseSignInToken(issued.signInToken.slice(0, -1) + (issued.signInToken.endsWith("a") ? "b" : "a"))).toBeNull();
    expect(issued.expiresAt.toISOString()).toBe("2030-01-01T00:10:00.000Z");
    await fails(issueSignInToken(t.db, actor, user.id, { expiresInSeconds: 59 }, meta), 422, "validation_failed");
    await fails(issueSignInToken(t.db, actor, user.id, { expiresInSeconds: 86_401 }, meta), 422, "validation_failed");
    const { actor: noScope } = await keyActor("production", "eu", ["users:read"]);
    await fails(issueSignInToken(t.db, noScope, user.id, {}, meta), 403, "insufficient_scope");
    const { actor: otherEnv } = await keyActor("sandbox", "eu");
    await fails(issueSignInToken(t.db, otherEnv, user.id, {}, meta), 404, "user_not_found");
  });

  it("staff issue with a reason; qa only in sandbox; auditors never", async () => {
    const { actor: sb } = await keyActor("sandbox", "us");
    const { actor: pr } = await keyActor("production", "us");
    const sbUser = await createUser(t.db, sb, { client_user_id: uniq("s") }, meta);
    const prUser = await createUser(t.db, pr, { client_user_id: uniq("p") }, meta);
    await fails(issueSignInToken(t.db, support, prUser.id, {}, meta), 422, "reason_required");
    await fails(issueSignInToken(t.db, qa, prUser.id, { reason: "testing" }, meta), 403, "forbidden");
    await fails(issueSignInToken(t.db, auditor, sbUser.id, { reason: "testing" }, meta), 403, "forbidden");
    const byQa = await issueSignInToken(t.db, qa, sbUser.id, { reason: "QA build 42", expiresInSeconds: 120 }, meta);
    const bySupport = await issueSignInToken(t.db, support, prUser.id, { reason: "customer ticket 981" }, meta);
    secrets.push(byQa.signInToken, bySupport.signInToken);
    const [ev] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "sign_in_token.issued"), eq(auditEvents.targetId, prUser.id)));
    expect(ev).toMatchObject({ actorType: "staff", actorId: support.id, reason: "customer ticket 981", environment: "production" });
    expect(ev!.details.signInTokenId).toBe(bySupport.tokenId);
  });

  it("report pending, redeemed (with the session) and expired, and cannot be redeemed after expiry", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const user = await createUser(t.db, actor, { client_user_id: uniq("st") }, meta);
    const issued = await issueSignInToken(t.db, support, user.id, { reason: "help", expiresInSeconds: 60 }, meta);
    secrets.push(issued.signInToken);
    const expiresAt = issued.expiresAt;
    expect((await getSignInTokenStatus(t.db, support, issued.tokenId)).state).toBe("pending");
    expect((await getSignInTokenStatus(t.db, support, issued.tokenId, { now: new Date(expiresAt.getTime() + 1) })).state).toBe("expired");
    await fails(getSignInTokenStatus(t.db, support, "nope"), 404, "sign_in_token_not_found");

    await grantFails(exchangeSignInToken(t.db, { signInToken: issued.signInToken }, meta, { now: new Date(expiresAt.getTime() + 1) }), "The sign-in token");
    const tokens = await exchangeSignInToken(t.db, { signInToken: issued.signInToken, installationId: "ios-1" }, meta);
    secrets.push(tokens.refresh_token);
    const status = await getSignInTokenStatus(t.db, support, issued.tokenId);
    expect(status.state).toBe("redeemed");
    expect(status.redeemedAt).toBeInstanceOf(Date);
    expect(status.sessionId).toBe((await authenticateBearer(t.db, tokens.access_token)).sessionId);
    expect(JSON.stringify(status)).not.toContain(issued.signInToken);
    await grantFails(exchangeSignInToken(t.db, { signInToken: issued.signInToken }, meta), "The sign-in token");
    const [session] = await t.db.select().from(sdkSessions).where(eq(sdkSessions.id, status.sessionId!));
    expect(session).toMatchObject({ installationId: "ios-1", userId: user.id });
  });

  it("refuses a revoked key from the next request on, though this instance had it verified", async () => {
    const { key, actor } = await keyActor("sandbox", "us"); // authenticated: this instance remembers it
    const user = await createUser(t.db, actor, { client_user_id: uniq("rk") }, meta);
    await revokeApiKey(t.db, system, actor.id, "rotated", meta);
    await fails(authenticateApiKey(t.db, key, "sign_in_tokens:write"), 401, "invalid_api_key");
    // What the key made before its revocation stays as it was.
    expect(await getUser(t.db, system, user.id)).toMatchObject({ id: user.id, environment: "sandbox", region: "us", status: "active" });
  });
});

describe("verified API keys, remembered per instance", () => {
  it("trusts a verified key for API_KEY_CACHE_MS: a revocation made by another instance is refused once that has passed", async () => {
    const API_KEY_CACHE_MS = config().apiKeyCacheMs;
    expect(API_KEY_CACHE_MS).toBe(5_000); // the default
    const { key, apiKey } = await createApiKey(t.db, system, { name: uniq("key"), environment: "sandbox", region: "us", scopes: ["users:read"] }, meta);
    secrets.push(key);
    const base = Date.now() + 60_000; // a clock of the test's own, past any entry made at real time
    expect((await authenticateApiKey(t.db, key, "users:read", undefined, { now: base })).id).toBe(apiKey.id);
    // Another instance revokes it: the row changes; this process's revokeApiKey is not called.
    await t.db.update(apiKeys).set({ revokedAt: new Date(), revokeReason: "elsewhere" }).where(eq(apiKeys.id, apiKey.id));
    // Within the bound this instance still answers from what it verified — scope included.
    expect((await authenticateApiKey(t.db, key, "users:read", undefined, { now: base + API_KEY_CACHE_MS - 1 })).id).toBe(apiKey.id);
    await fails(authenticateApiKey(t.db, key, "users:write", undefined, { now: base + 1 }), 403, "insufficient_scope");
    // Past it, the entry has expired: the row is read again and the key refused, and stays refused.
    await fails(authenticateApiKey(t.db, key, "users:read", undefined, { now: base + API_KEY_CACHE_MS }), 401, "invalid_api_key");
    await fails(authenticateApiKey(t.db, key, "users:read", undefined, { now: base + 1 }), 401, "invalid_api_key");
  });

  it("with API_KEY_CACHE_MS=0 every call reads the row: a revocation made elsewhere is refused at once", async () => {
    const { key, apiKey } = await createApiKey(t.db, system, { name: uniq("key"), environment: "sandbox", region: "us", scopes: ["users:read"] }, meta);
    secrets.push(key);
    const base = Date.now() + 120_000;
    expect((await authenticateApiKey(t.db, key, "users:read", undefined, { now: base, cacheMs: 0 })).id).toBe(apiKey.id);
    await t.db.update(apiKeys).set({ revokedAt: new Date(), revokeReason: "elsewhere" }).where(eq(apiKeys.id, apiKey.id));
    await fails(authenticateApiKey(t.db, key, "users:read", undefined, { now: base + 1, cacheMs: 0 }), 401, "invalid_api_key");
  });

  it("never remembers an unknown or revoked key: each refusal reads the table", async () => {
    const { key, apiKey } = await createApiKey(t.db, system, { name: uniq("key"), environment: "sandbox", region: "us", scopes: ["users:read"] }, meta);
    secrets.push(key);
    await t.db.update(apiKeys).set({ revokedAt: new Date(), revokeReason: "before first use" }).where(eq(apiKeys.id, apiKey.id));
    await fails(authenticateApiKey(t.db, key, null), 401, "invalid_api_key");
    // Un-revoked (only a test can do this): the next call reads the row and accepts it.
    await t.db.update(apiKeys).set({ revokedAt: null, revokeReason: null }).where(eq(apiKeys.id, apiKey.id));
    expect((await authenticateApiKey(t.db, key, null)).id).toBe(apiKey.id);
  });
});

describe("staff create and edit users (the console)", () => {
  it("create as POST /v2/user does: support and admin anywhere, qa in sandbox only, auditors never; audited and the same webhook event", async () => {
    const hook = await createWebhookEndpoint(
      t.db,
      admin,
      { url: "https://hooks.example.com/users-test", environment: "production", eventTypes: ["user.created"] },
      meta,
    );
    const cid = uniq("console-made");
    const user = await createUser(
      t.db,
      support,
      { client_user_id: ` ${cid} `, name: "Noor Haddad", email: "noor@example.test", environment: "production", region: "eu" },
      meta,
    );
    expect(user).toMatchObject({
      clientUserId: cid,
      name: "Noor Haddad",
      email: "noor@example.test",
      environment: "production",
      region: "eu",
      status: "active",
    });
    const [ev] = await auditOf("user.created", user.id);
    expect(ev).toMatchObject({ actorType: "staff", actorId: support.id, environment: "production", details: { clientUserId: cid, region: "eu" } });
    await fanOutAll(t.db); // the event is fanned out to deliveries after commit (the dispatcher's tick)
    const deliveries = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, hook.endpoint.id));
    expect(deliveries.map((d) => [d.eventType, JSON.parse(d.body).data])).toEqual([
      [
        "user.created",
        { user_id: user.id, client_user_id: cid, environment: "production", region: "eu", created_on: user.createdAt.toISOString(), initiated_by: "staff" },
      ],
    ]);

    // The same client user id is taken in that environment and region, free in another.
    const taken = await fails(createUser(t.db, admin, { client_user_id: cid, environment: "production", region: "eu" }, meta), 409, "client_user_id_taken");
    expect(taken.extra).toMatchObject({ user_id: user.id, field: "client_user_id" });
    expect((await createUser(t.db, qa, { client_user_id: cid, environment: "sandbox", region: "eu" }, meta)).environment).toBe("sandbox");
    await fails(createUser(t.db, qa, { client_user_id: uniq("qa-prod"), environment: "production", region: "eu" }, meta), 403, "forbidden");
    await fails(createUser(t.db, auditor, { client_user_id: uniq("aud"), environment: "sandbox", region: "eu" }, meta), 403, "forbidden");

    // Bad input: a clear 422 at the field, nothing written.
    const before = await t.db.select({ id: users.id }).from(users);
    const bad = await fails(
      createUser(t.db, support, { client_user_id: "", email: "not-an-email", environment: "sandbox", region: "eu" }, meta),
      422,
      "validation_failed",
    );
    expect(Object.keys(bad.extra.fields as object).sort()).toEqual(["client_user_id", "email"]);
    expect(
      (await fails(createUser(t.db, support, { client_user_id: "x", environment: "staging" as "sandbox", region: "eu" }, meta), 422, "validation_failed")).extra
        .field,
    ).toBe("environment");
    expect(
      (await fails(createUser(t.db, support, { client_user_id: "x", environment: "sandbox", region: "mars" }, meta), 422, "validation_failed")).extra.field,
    ).toBe("region");
    expect((await t.db.select({ id: users.id }).from(users)).length).toBe(before.length);
  });

  it("edit name and email with a reason: audited with what changed, empty clears, no change audits nothing, qa in sandbox only", async () => {
    const { actor: prodKey } = await keyActor("production", "us");
    const user = await createUser(t.db, prodKey, { client_user_id: uniq("edit"), name: "Ann Lee", email: "ann@example.test" }, meta);
    await fails(updateUser(t.db, support, user.id, { name: "Ann Smith" }, meta), 422, "reason_required");
    await updateUser(t.db, support, user.id, { name: "Ann Smith", reason: "ticket 7" }, meta);
    await fails(updateUser(t.db, auditor, user.id, { name: "x", reason: "no" }, meta), 403, "forbidden");
    await fails(updateUser(t.db, qa, user.id, { name: "x", reason: "no" }, meta), 403, "forbidden");
    await fails(updateUser(t.db, prodKey, user.id, { name: "x" }, meta), 403, "forbidden");
    const bad = await fails(updateUser(t.db, support, user.id, { email: "nope", name: "y".repeat(201), reason: "r" }, meta), 422, "validation_failed");
    expect(Object.keys(bad.extra.fields as object).sort()).toEqual(["email", "name"]);

    const renamed = await getUser(t.db, admin, user.id);
    expect([renamed.name, renamed.email]).toEqual(["Ann Smith", "ann@example.test"]);
    const updated = await updateUser(t.db, admin, user.id, { name: "Ann Smith", email: "", reason: "asked to remove her email" }, meta);
    expect([updated.name, updated.email]).toEqual(["Ann Smith", null]);
    const events = (await auditOf("user.updated", user.id)).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    expect(events.map((e) => [e.actorId, e.reason, e.details])).toEqual([
      [support.id, "ticket 7", { clientUserId: user.clientUserId, changed: "name", previousName: "Ann Lee", name: "Ann Smith" }],
      [admin.id, "asked to remove her email", { clientUserId: user.clientUserId, changed: "email", previousEmail: "ann@example.test", email: null }],
    ]);
    await updateUser(t.db, admin, user.id, { name: " Ann Smith ", email: "", reason: "same again" }, meta);
    expect((await auditOf("user.updated", user.id)).length).toBe(2);
    // Found by the new name at once.
    expect((await searchUsers(t.db, admin, { q: "ann smith" })).users.map((u) => u.id)).toContain(user.id);

    await deleteUser(t.db, admin, user.id, { reason: "gone" }, meta);
    await fails(updateUser(t.db, admin, user.id, { name: "ghost", reason: "r" }, meta), 404, "user_not_found");
    const sandboxUser = await createUser(t.db, qa, { client_user_id: uniq("qa-edit"), environment: "sandbox", region: "us" }, meta);
    expect((await updateUser(t.db, qa, sandboxUser.id, { name: "QA Named", reason: "test data" }, meta)).name).toBe("QA Named");
  });
});

describe("concurrent edits", () => {
  it("are serialized by the row lock: each event's 'before' is another's 'after', one unbroken chain to the final name", async () => {
    const user = await createUser(t.db, system, { client_user_id: uniq("race-edit"), name: "n0", environment: "sandbox", region: "us" }, meta);
    const N = 12;
    await Promise.all(Array.from({ length: N }, (_, i) => updateUser(t.db, support, user.id, { name: `n${i + 1}`, reason: "race" }, meta)));
    const events = await auditOf("user.updated", user.id);
    expect(events).toHaveLength(N);
    const next = new Map(events.map((e) => [(e.details as { previousName: string }).previousName, (e.details as { name: string }).name]));
    expect(next.size).toBe(N);
    let at = "n0";
    for (let i = 0; i < N; i++) at = next.get(at)!;
    expect(at).toBe((await getUser(t.db, admin, user.id)).name);
  });
});

describe("activity and totals for the users table", () => {
  it("last sign-in is the newest session's start, last active the latest start or refresh; qa sees sandbox only", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const { actor: prodKey } = await keyActor("production", "us");
    const quiet = await createUser(t.db, actor, { client_user_id: uniq("quiet") }, meta);
    const busy = await createUser(t.db, actor, { client_user_id: uniq("busy") }, meta);
    const prod = await createUser(t.db, prodKey, { client_user_id: uniq("prod-act") }, meta);
    const first = await signIn(actor, busy.id);
    const refreshed = await refreshSdkSession(t.db, first.refresh_token, meta, { now: new Date(Date.now() + 60_000) });
    secrets.push(refreshed.refresh_token, refreshed.access_token);
    await signIn(prodKey, prod.id);
    const sessions = await t.db.select().from(sdkSessions).where(eq(sdkSessions.userId, busy.id));

    const seen = await usersActivity(t.db, admin, [quiet.id, busy.id, prod.id, "not-a-uuid"]);
    expect(seen.has(quiet.id)).toBe(false);
    expect(seen.get(busy.id)).toEqual({ lastSignInAt: sessions[0]!.createdAt, lastActiveAt: sessions[0]!.lastRefreshAt });
    expect(seen.get(busy.id)!.lastActiveAt!.getTime()).toBeGreaterThan(seen.get(busy.id)!.lastSignInAt!.getTime());
    expect(seen.has(prod.id)).toBe(true);

    // A second sign-in is the newest; with no refresh yet, it is also the latest activity if newer.
    await signIn(actor, busy.id);
    const all = await t.db.select().from(sdkSessions).where(eq(sdkSessions.userId, busy.id));
    const newest = all.map((s) => s.createdAt.getTime()).sort((a, b) => b - a)[0]!;
    expect((await usersActivity(t.db, admin, [busy.id])).get(busy.id)!.lastSignInAt!.getTime()).toBe(newest);

    const forQa = await usersActivity(t.db, qa, [busy.id, prod.id]);
    expect([forQa.has(busy.id), forQa.has(prod.id)]).toEqual([true, false]);
    await expect(usersActivity(t.db, prodKey, [busy.id])).rejects.toMatchObject({ status: 403 });
  });

  it("counts exactly while small, by environment and status as each role may see, and estimates past the exact limit", async () => {
    const exact = async (where: string) =>
      Number((await queryRows<{ n: number }>(t.db, sql.raw(`select count(*)::int as n from users where deleted_at is null and ${where}`)))[0]!.n);
    expect(await countUsers(t.db, admin)).toEqual({ total: await exact("true"), isEstimate: false });
    expect(await countUsers(t.db, support, { environment: "production" })).toEqual({ total: await exact("environment = 'production'"), isEstimate: false });
    expect(await countUsers(t.db, admin, { status: "disabled" })).toEqual({ total: await exact("disabled_at is not null"), isEstimate: false });
    // qa counts sandbox only, asked or not; asking for production is refused.
    expect(await countUsers(t.db, qa)).toEqual({ total: await exact("environment = 'sandbox'"), isEstimate: false });
    await fails(countUsers(t.db, qa, { environment: "production" }), 403, "forbidden");

    // Past TOTAL_EXACT_UP_TO users the planner estimates (rolled back: other tests see none of them).
    const rollback = new Error("rollback");
    await expect(
      t.db.transaction(async (tx) => {
        await tx.execute(
          sql`insert into users (id, environment, region, client_user_id)
              select gen_random_uuid(), 'sandbox', 'us', 'bulk-' || g from generate_series(1, ${TOTAL_EXACT_UP_TO + 50}) g`,
        );
        await tx.execute(sql`analyze users`);
        const all = await countUsers(tx, admin);
        expect(all.isEstimate).toBe(true);
        expect(all.total).toBeGreaterThan(TOTAL_EXACT_UP_TO);
        const active = await countUsers(tx, admin, { status: "active" });
        expect(active.isEstimate).toBe(true);
        expect(active.total).toBeGreaterThan(TOTAL_EXACT_UP_TO / 2);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect((await countUsers(t.db, admin)).isEstimate).toBe(false);
  });
});

describe("where SDK sessions were used", () => {
  it("records the IP and user agent of the exchange, then of the latest refresh, in the statements they already run", async () => {
    const { actor } = await keyActor("sandbox", "us");
    const user = await createUser(t.db, actor, { client_user_id: uniq("clients") }, meta);
    const issued = await issueSignInToken(t.db, actor, user.id, {}, meta);
    secrets.push(issued.signInToken);
    const phone = { requestId: "r1", ip: "198.51.100.7", userAgent: "Vital/2.1 (iPhone; iOS 18.1)" };
    const tokens = await exchangeSignInToken(t.db, { signInToken: issued.signInToken, installationId: uniq("inst") }, phone);
    secrets.push(tokens.refresh_token, tokens.access_token);
    let [session] = await listUserSessions(t.db, support, user.id);
    expect(session).toMatchObject({ firstIp: "198.51.100.7", firstUserAgent: "Vital/2.1 (iPhone; iOS 18.1)", lastIp: null, lastUserAgent: null });

    const later = { requestId: "r2", ip: null, userAgent: `Vital/2.2 ${"x".repeat(700)}` };
    const next = await refreshSdkSession(t.db, tokens.refresh_token, later);
    secrets.push(next.refresh_token, next.access_token);
    [session] = await listUserSessions(t.db, support, user.id);
    expect(session).toMatchObject({ firstIp: "198.51.100.7", firstUserAgent: "Vital/2.1 (iPhone; iOS 18.1)", lastIp: null });
    expect(session!.lastUserAgent).toBe(later.userAgent.slice(0, 512));
    expect(session!.lastRefreshAt).toBeInstanceOf(Date);

    const third = await refreshSdkSession(t.db, next.refresh_token, { requestId: "r3", ip: "2001:db8::5", userAgent: null });
    secrets.push(third.refresh_token, third.access_token);
    [session] = await listUserSessions(t.db, support, user.id);
    expect(session).toMatchObject({ firstIp: "198.51.100.7", lastIp: "2001:db8::5", lastUserAgent: null });
  });
});

describe("secrets at rest", () => {
  it("no key, sign-in token, refresh or access token minted here appears in any audit event or table", async () => {
    expect(secrets.length).toBeGreaterThan(10);
    const tables = await queryRows<{ table_name: string }>(t.db, sql`select table_name from information_schema.tables where table_schema = 'public'`);
    for (const { table_name } of tables) {
      const rows = await queryRows<{ j: string }>(t.db, sql`select row_to_json(x)::text as j from ${sql.identifier(table_name)} x`);
      const dump = rows.map((r) => r.j).join("\n");
      for (const s of secrets) expect(dump.includes(s), `${table_name} holds a secret`).toBe(false);
    }
  });
});
