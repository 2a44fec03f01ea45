/**
 * Runs last (file order): after every HTTP flow of the suite, reads every text and jsonb column of
 * every table — what a `pg_dump` would hold — and asserts that no secret of any family the server
 * issues (tests/helpers/secrets.ts: API keys, sign-in and refresh tokens, InstanceKeys, DeviceTokens,
 * device refresh tokens, IDV ephemeral tokens and short links, access JWTs, staff passwords, webhook signing secrets)
 * appears in the clear: neither the ones minted here nor anything shaped like one (webhook
 * payloads included: an endpoint subscribed to every event holds the outbox's copy of each).
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, queryRows } from "@/db/client";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createInstance } from "@/lib/devices";
import { shortCodeFor } from "@/lib/idv/tokens";
import { createWorkflow } from "@/lib/idv/workflows";
import { createStaff } from "@/lib/staff/staff";
import { createWebhookEndpoint } from "@/lib/webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES } from "@/lib/webhooks/events";
import { fanOutAll } from "@/lib/webhooks/outbox";
import { call, createUserOver, exchangeOver, form, issueOver, mintKey, openTestDb, refreshOver, uniq } from "../helpers/machine-api";
import { SECRET_FAMILIES } from "../helpers/secrets";

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDb();
});
afterAll(async () => {
  await handle.close();
});

describe("secrets at rest", () => {
  it("no secret of any family is stored anywhere in the clear", async () => {
    // Mint one of everything through the API, including the paths that write audit events.
    const minted: string[] = [];
    const { key } = await mintKey(handle);
    minted.push(key);
    // A webhook endpoint for every event, so the outbox holds the payloads of what follows.
    const hook = await createWebhookEndpoint(
      handle.db,
      systemActor("http test"),
      { url: "https://hooks.example.com/secrets-at-rest", environment: "sandbox", eventTypes: [...WEBHOOK_EVENT_TYPES] },
      NO_REQUEST,
    );
    minted.push(hook.secret, hook.secret.slice("whsec_".length));
    const user = await createUserOver(key);
    await call(`/v2/user/${user.user_id}`, { key, headers: { "X-Installation-Id": "dump-check" } });
    const unused = await issueOver(key, user.user_id);
    const used = await issueOver(key, user.user_id);
    minted.push(unused, used);
    const ex = await exchangeOver(used, { installation_id: "dump-check", previous_user_id: user.user_id }, { "X-Vital-API-Key": key });
    expect(ex.status).toBe(200);
    const refreshed = await refreshOver(ex.body.refresh_token);
    minted.push(ex.body.refresh_token, refreshed.body.refresh_token, ex.body.access_token, refreshed.body.access_token);
    const rejected = await exchangeOver(unused, { previous_user_id: "someone-else" }, { "X-Vital-API-Key": key });
    expect(rejected.body.error_description).toMatch(/^incompatible_migration/);
    await form("/oauth/revoke", { token: refreshed.body.refresh_token });
    await form("/oauth/revoke", { token: refreshed.body.access_token });

    // Telematics: an InstanceKey, a DeviceToken, device JWTs and device refresh tokens (registered,
    // logged in, refreshed).
    const { instance, instanceKey } = await createInstance(handle.db, systemActor("http test"), { name: "dump check", environment: "sandbox" }, NO_REQUEST);
    minted.push(instanceKey);
    const reg = await call("/v1/Registration/create", { headers: { InstanceId: instance.id, InstanceKey: instanceKey }, json: { FirstName: "Dump" } });
    expect(reg.status).toBe(200);
    const login = await call("/v1/Auth/Login", {
      headers: { InstanceId: instance.id },
      json: { LoginFields: JSON.stringify({ Devicetoken: reg.body.Result.DeviceToken }), Password: instanceKey },
    });
    expect(login.status).toBe(200);
    const deviceRefresh = await call("/v1/Auth/RefreshToken", {
      json: { AccessToken: login.body.Result.AccessToken.Token, RefreshToken: login.body.Result.RefreshToken },
    });
    expect(deviceRefresh.status).toBe(200);
    for (const r of [reg, login, deviceRefresh]) minted.push(r.body.Result.AccessToken.Token, r.body.Result.RefreshToken);
    minted.push(reg.body.Result.DeviceToken);

    // IDV: an ephemeral token that starts a session, a deeplink's token, and the short link code.
    const workflow = await createWorkflow(handle.db, systemActor("http test"), { name: "dump check", steps: ["selfie"] }, NO_REQUEST);
    const ephemeral = await call("/api/device/ephemeral", { key, json: {} });
    expect(ephemeral.status).toBe(200);
    const session = await call(`/api/sessions?workflowId=${workflow.id}`, {
      headers: { Authorization: ephemeral.body.authorization },
      json: { metadata: { externalUserId: "dump-check" } },
    });
    expect(session.status).toBe(200);
    const deeplink = await call(`/api/v1/deeplink?workflowId=${workflow.id}`, { key, json: {} });
    expect(deeplink.status).toBe(200);
    const inner = new URL(new URL(deeplink.body.url).searchParams.get("url")!);
    minted.push(
      ephemeral.body.authorization,
      inner.searchParams.get("authorization")!,
      shortCodeFor(session.body.id),
      shortCodeFor(inner.searchParams.get("sessionId")!),
    );

    // A staff member's password.
    const password = `dump-check password ${uniq("pw")}`;
    await createStaff(handle.db, systemActor("http test"), { email: `${uniq("dump")}@example.test`, role: "support", password }, NO_REQUEST);
    minted.push(password);

    // One of every family was minted above (so each shape is known to match a real one).
    for (const family of SECRET_FAMILIES) {
      expect(
        minted.some((m) => family.shape.test(m)),
        `minted a ${family.what}`,
      ).toBe(true);
    }

    // The events those calls sent are in their audit rows until the fan-out writes their deliveries
    // (the server's dispatcher within a second, or this call when it gets there first): wait for
    // them, so that they are scanned too.
    const outboxRows = async () =>
      Number(
        (await queryRows<{ n: number }>(handle.db, sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${hook.endpoint.id}::uuid`))[0]!.n,
      );
    for (const deadline = Date.now() + 30_000; (await outboxRows()) <= 3 && Date.now() < deadline; ) {
      await fanOutAll(handle.db);
      await new Promise((r) => setTimeout(r, 100));
    }
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
        for (const { what, shape } of SECRET_FAMILIES)
          expect(shape.test(v!), `${table_name}.${column_name} holds something shaped like a ${what}: ${v!.slice(0, 40)}`).toBe(false);
      }
    }
    expect(scanned).toBeGreaterThan(100);
    expect(await outboxRows()).toBeGreaterThan(3); // user.created, sign_in_token.redeemed, migration.*, sdk_session.revoked were scanned
  });
});
