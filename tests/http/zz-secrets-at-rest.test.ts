/**
 * Runs last (file order): after every HTTP flow of the suite, reads every text and jsonb column of
 * every table — what a `pg_dump` would hold — and asserts that no Team API key, sign-in token or
 * refresh token appears in the clear: neither the ones minted here nor anything shaped like one.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, queryRows } from "@/db/client";
import { call, createUserOver, exchangeOver, form, issueOver, mintKey, openTestDb, refreshOver } from "../helpers/machine-api";

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDb();
});
afterAll(async () => {
  await handle.close();
});

/** Shapes of tokendesk's secrets (api-keys/format.ts, sign-in/format.ts). */
const SECRET_SHAPES = [/\b(sk|pk)_[a-z]{2,8}_[0-9A-Za-z]{49}\b/, /\bsit_(sandbox|production)_[a-z]{2,8}_[0-9A-Za-z]{49}\b/, /\brt_[0-9A-Za-z]{49}\b/];

describe("secrets at rest", () => {
  it("no plaintext API key, sign-in token or refresh token is stored anywhere", async () => {
    // Mint one of everything through the API, including the paths that write audit events.
    const minted: string[] = [];
    const { key } = await mintKey(handle);
    minted.push(key);
    const user = await createUserOver(key);
    await call(`/v2/user/${user.user_id}`, { key, headers: { "X-Installation-Id": "dump-check" } });
    const unused = await issueOver(key, user.user_id);
    const used = await issueOver(key, user.user_id);
    minted.push(unused, used);
    const ex = await exchangeOver(used, { installation_id: "dump-check", previous_user_id: user.user_id }, { "X-Vital-API-Key": key });
    expect(ex.status).toBe(200);
    const refreshed = await refreshOver(ex.body.refresh_token);
    minted.push(ex.body.refresh_token, refreshed.body.refresh_token);
    const rejected = await exchangeOver(unused, { previous_user_id: "someone-else" }, { "X-Vital-API-Key": key });
    expect(rejected.body.error_description).toMatch(/^incompatible_migration/);
    await form("/oauth/revoke", { token: refreshed.body.refresh_token });

    const columns = await queryRows<{ table_name: string; column_name: string }>(
      handle.db,
      sql`select table_name, column_name from information_schema.columns
          where table_schema = 'public' and data_type in ('text', 'jsonb', 'json', 'character varying', 'ARRAY')
          order by table_name, column_name`,
    );
    expect(columns.length).toBeGreaterThan(20);
    let scanned = 0;
    for (const { table_name, column_name } of columns) {
      const rows = await queryRows<{ v: string | null }>(
        handle.db,
        sql`select ${sql.identifier(column_name)}::text as v from ${sql.identifier(table_name)} where ${sql.identifier(column_name)} is not null`,
      );
      for (const { v } of rows) {
        scanned++;
        for (const s of minted) expect(v!.includes(s), `${table_name}.${column_name} holds a minted secret`).toBe(false);
        for (const shape of SECRET_SHAPES)
          expect(shape.test(v!), `${table_name}.${column_name} holds something shaped like a secret: ${v!.slice(0, 40)}`).toBe(false);
      }
    }
    expect(scanned).toBeGreaterThan(100);
  });
});
