#!/usr/bin/env node
import { generateKeyPairSync } from "node:crypto";
/**
 * The peer of the refresh benchmark: oidc-provider (v9, a certified Node OpenID/OAuth server) on
 * loopback, doing its refresh_token grant with rotation on, in its own process (like tokendesk's
 * `next start`), so that the load generator does not share its event loop.
 *
 *   node scripts/bench/peer-oidc.mjs --port 3790 --count 5000 --out bench/tmp/peer-tokens.json [--pg URL]
 *
 * Before listening it mints `count` grants + refresh tokens through the provider's own models and
 * writes them to `--out`; then prints "ready <url>" on stdout. Without --pg the provider keeps its
 * tokens in memory (a Map, like its default adapter minus the 1000-entry LRU; no database at all — a large advantage over tokendesk,
 * which commits every refresh durably to PostgreSQL). With --pg it uses a small PostgreSQL adapter
 * (one jsonb row per model instance, upserts, synchronous commits), for a like-for-like comparison.
 */
import fs from "node:fs";
import Provider from "oidc-provider";
import postgres from "postgres";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const port = Number(arg("port", "3790"));
const count = Number(arg("count", "1000"));
const out = arg("out", "bench/tmp/peer-tokens.json");
const pgUrl = arg("pg", null);

function pgAdapterFactory(sql) {
  return class PgAdapter {
    constructor(name) {
      this.name = name;
    }
    async upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      await sql`insert into oidc_payloads (id, type, payload, grant_id, user_code, uid, expires_at)
        values (${id}, ${this.name}, ${sql.json(payload)}, ${payload.grantId ?? null}, ${payload.userCode ?? null}, ${payload.uid ?? null}, ${expiresAt})
        on conflict (id, type) do update set payload = excluded.payload, grant_id = excluded.grant_id, expires_at = excluded.expires_at`;
    }
    async find(id) {
      const [row] = await sql`select payload, consumed_at from oidc_payloads where id = ${id} and type = ${this.name}`;
      if (!row) return undefined;
      return { ...row.payload, ...(row.consumed_at ? { consumed: true } : {}) };
    }
    async findByUserCode(userCode) {
      const [row] = await sql`select payload from oidc_payloads where user_code = ${userCode} and type = ${this.name}`;
      return row?.payload;
    }
    async findByUid(uid) {
      const [row] = await sql`select payload from oidc_payloads where uid = ${uid} and type = ${this.name}`;
      return row?.payload;
    }
    async consume(id) {
      await sql`update oidc_payloads set consumed_at = now() where id = ${id} and type = ${this.name}`;
    }
    async destroy(id) {
      await sql`delete from oidc_payloads where id = ${id} and type = ${this.name}`;
    }
    async revokeByGrantId(grantId) {
      await sql`delete from oidc_payloads where grant_id = ${grantId}`;
    }
  };
}

/**
 * In memory, like oidc-provider's default adapter, but without its 1000-entry LRU (which evicts
 * grants and tokens of a benchmark-sized population): a Map per model.
 */
class MapAdapter {
  static stores = new Map();
  constructor(name) {
    this.name = name;
    if (!MapAdapter.stores.has(name)) MapAdapter.stores.set(name, new Map());
    this.store = MapAdapter.stores.get(name);
    if (!MapAdapter.stores.has("grants")) MapAdapter.stores.set("grants", new Map());
    this.grants = MapAdapter.stores.get("grants");
  }
  async upsert(id, payload) {
    this.store.set(id, payload);
    if (payload.grantId) {
      const ids = this.grants.get(payload.grantId) ?? [];
      ids.push([this.name, id]);
      this.grants.set(payload.grantId, ids);
    }
  }
  async find(id) {
    return this.store.get(id);
  }
  async findByUserCode() {
    return undefined;
  }
  async findByUid(uid) {
    for (const v of this.store.values()) if (v.uid === uid) return v;
    return undefined;
  }
  async consume(id) {
    const v = this.store.get(id);
    if (v) v.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    this.store.delete(id);
  }
  async revokeByGrantId(grantId) {
    for (const [name, id] of this.grants.get(grantId) ?? []) MapAdapter.stores.get(name)?.delete(id);
    this.grants.delete(grantId);
  }
}

let adapter = MapAdapter;
let sql;
if (pgUrl) {
  sql = postgres(pgUrl, { max: 10, onnotice: () => {} });
  await sql`create table if not exists oidc_payloads (
    id text not null, type text not null, payload jsonb not null, grant_id text, user_code text, uid text,
    expires_at timestamptz, consumed_at timestamptz, primary key (id, type))`;
  await sql`create index if not exists oidc_payloads_grant_id on oidc_payloads (grant_id)`;
  adapter = pgAdapterFactory(sql);
}

const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const jwk = { ...privateKey.export({ format: "jwk" }), kid: "bench", alg: "ES256", use: "sig" };

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  adapter,
  clients: [
    {
      client_id: "bench-sdk",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: ["https://app.example.test/cb"],
      id_token_signed_response_alg: "ES256",
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: ["bench-cookie-key-0123456789abcdef"] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  rotateRefreshToken: true,
  ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 365 * 86400, Grant: 365 * 86400 },
  features: { devInteractions: { enabled: false } },
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

const tokens = [];
for (let i = 0; i < count; i++) {
  const accountId = `user-${i}`;
  const grant = new provider.Grant({ accountId, clientId: "bench-sdk" });
  grant.addOIDCScope("openid offline_access");
  const grantId = await grant.save();
  const rt = new provider.RefreshToken({
    accountId,
    clientId: "bench-sdk",
    grantId,
    scope: "openid offline_access",
    gty: "authorization_code",
    authTime: Math.floor(Date.now() / 1000),
  });
  tokens.push(await rt.save());
}
fs.writeFileSync(out, JSON.stringify(tokens));

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
const stop = async () => {
  server.close();
  if (sql) await sql.end({ timeout: 2 });
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
