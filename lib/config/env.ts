/**
 * Configuration, parsed once from the environment by one zod schema.
 *
 * A bad value stops start-up with one sentence naming the variable (see `ConfigError`).
 * Optional features (OIDC) parse to `null` when not configured, so callers test one value.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { zodProblems } from "@/lib/errors";
import { STAFF_ROLES, type StaffRole } from "@/lib/staff/rbac";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const schema = z.object({
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL"),
  TOKENDESK_SECRET: optionalString.refine(
    (v) => v === undefined || v.length >= 32,
    "must be at least 32 characters (generate one with `openssl rand -base64 48`)",
  ),
  TOKENDESK_DATA_DIR: optionalString,
  PORT: optionalString
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535), "must be a port number, 1..65535")
    .transform((v) => (v === undefined ? undefined : Number(v))),
  PUBLIC_URL: optionalString.refine(
    (v) => v === undefined || /^https?:\/\/[^/]+$/.test(v.replace(/\/$/, "")),
    "must be an origin such as https://tokens.example.com (no path)",
  ),
  TRUSTED_PROXY: optionalString.refine(
    (v) => v === undefined || ["x-forwarded-for", "x-real-ip", "cf-connecting-ip", "none"].includes(v.toLowerCase()),
    "must be one of x-forwarded-for, x-real-ip, cf-connecting-ip or none",
  ),
  CORS_ALLOWED_ORIGINS: optionalString.refine(
    (v) => v === undefined || v.split(",").every((o) => /^https?:\/\/[^/\s*]+$/.test(o.trim())),
    "must be a comma-separated list of exact origins such as https://app.example.com (scheme and host, no path, no *)",
  ),
  OIDC_ISSUER: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), "must be an http(s) URL"),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_NAME: optionalString,
  OIDC_ROLE_CLAIM: optionalString,
  OIDC_ROLE_MAP: optionalString,
  OIDC_DEFAULT_ROLE: optionalString.refine(
    (v) => v === undefined || (STAFF_ROLES as readonly string[]).includes(v),
    `must be one of ${STAFF_ROLES.join(", ")}`,
  ),
  DATABASE_POOL_MAX: optionalString
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000), "must be a whole number of connections, 1..1000")
    .transform((v) => (v === undefined ? undefined : Number(v))),
  API_KEY_CACHE_MS: optionalString
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) <= 60_000), "must be a whole number of milliseconds, 0..60000 (0 = no cache)")
    .transform((v) => (v === undefined ? undefined : Number(v))),
  TOKENDESK_REGIONS: optionalString.refine(
    (v) => v === undefined || v.split(",").every((r) => /^[a-z]{2,8}$/.test(r.trim().toLowerCase())),
    "must be a comma list of region codes of 2 to 8 letters, e.g. us,eu,ap",
  ),
  LOG_LEVEL: optionalString.refine((v) => v === undefined || LOG_LEVELS.includes(v.toLowerCase() as LogLevel), `must be one of ${LOG_LEVELS.join(", ")}`),
  METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, "must be at least 16 characters"),
  METRICS_PORT: optionalString
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535), "must be a port number, 1..65535")
    .transform((v) => (v === undefined ? undefined : Number(v))),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), "must be an http(s) URL"),
  AUDIT_RETENTION_DAYS: optionalString
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) >= 1), "must be a whole number of days, at least 1")
    .transform((v) => (v === undefined ? undefined : Number(v))),
  AUDIT_ARCHIVE_DIR: optionalString,
  TOKENDESK_DEMO: optionalString.refine((v) => v === undefined || v === "0" || v === "1", "must be 0 or 1"),
  TOKENDESK_BACKGROUND: optionalString.refine((v) => v === undefined || v === "0" || v === "1", "must be 0 or 1"),
  WEBHOOK_ALLOW_PRIVATE: optionalString.refine((v) => v === undefined || ["0", "1", "true", "false"].includes(v), "must be 1 or 0"),
  NODE_ENV: optionalString,
});

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  displayName: string;
  /** Claim holding the SSO user's groups or roles (a string or an array of strings). */
  roleClaim: string;
  /** claim value → tokendesk role, first match in this order wins. */
  roleMap: Array<{ value: string; role: StaffRole }>;
  /** Role given when no mapping matches; null means such users are refused. */
  defaultRole: StaffRole | null;
}

export interface Config {
  mode: "embedded" | "postgres";
  databaseUrl: string | null;
  dataDir: string;
  secret: string;
  port: number;
  publicUrl: string;
  trustedProxyHeader: string | null;
  /** Browser origins allowed to call the SDK's endpoints (CORS); empty = none. */
  corsAllowedOrigins: string[];
  oidc: OidcConfig | null;
  /** Webhook deliveries may go to loopback, private and link-local addresses (tests, private networks). */
  webhookAllowPrivate: boolean;
  production: boolean;
  /** postgres.js connections per process (DATABASE_POOL_MAX). */
  poolMax: number;
  /** How long an instance trusts an API key it verified (API_KEY_CACHE_MS; 0 = reads the key's row on every call). */
  apiKeyCacheMs: number;
  /** Regions this deployment serves (TOKENDESK_REGIONS), lower-case. */
  regions: string[];
  logLevel: LogLevel;
  /** Metrics: `GET /metrics` needs `Authorization: Bearer <token>` when set; a separate port when set. Neither: /metrics is off. */
  metrics: { token: string | null; port: number | null };
  /** OpenTelemetry tracing when the OTLP endpoint is set. */
  otlpEndpoint: string | null;
  /** Audit retention: events older than `days`, in whole seals, are archived to `archiveDir` then deleted. Null: kept forever. */
  auditRetention: { days: number; archiveDir: string } | null;
  /** Seed the demo team into an empty embedded database (never with DATABASE_URL or TOKENDESK_DEMO=0). */
  demo: boolean;
  /**
   * Run the background work (sweepers: audit sealer, retention, roll-ups…; the webhook dispatcher).
   * TOKENDESK_BACKGROUND=0: this instance only answers requests; another instance must run it.
   */
  background: boolean;
}

function parseRoleMap(raw: string | undefined): Array<{ value: string; role: StaffRole }> {
  if (!raw) return [];
  return raw.split(",").map((pair) => {
    const [value, role] = pair.split("=").map((s) => s?.trim());
    if (!value || !role || !(STAFF_ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(`OIDC_ROLE_MAP must be a comma list of claim-value=role pairs with roles among ${STAFF_ROLES.join(", ")} (got "${pair}").`);
    }
    return { value, role: role as StaffRole };
  });
}

/** Reads the embedded-mode secret from the data directory, creating it (0600) on first use. */
function embeddedSecret(dataDir: string): string {
  const file = path.join(dataDir, "secret");
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(48).toString("base64url");
    try {
      fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
      return secret;
    } catch {
      // Another process created it between our read and write: use theirs.
      return fs.readFileSync(file, "utf8").trim();
    }
  }
}

export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(zodProblems(result.error)[0]!.message);
  }
  const e = result.data;
  const databaseUrl = e.DATABASE_URL ?? null;
  const dataDir = path.resolve(/*turbopackIgnore: true*/ e.TOKENDESK_DATA_DIR ?? ".tokendesk");
  if (databaseUrl && !e.TOKENDESK_SECRET) {
    throw new ConfigError("TOKENDESK_SECRET is required when DATABASE_URL is set: every instance must share it (generate one with `openssl rand -base64 48`).");
  }
  const port = e.PORT ?? 3000;
  let oidc: OidcConfig | null = null;
  if (e.OIDC_ISSUER || e.OIDC_CLIENT_ID || e.OIDC_CLIENT_SECRET) {
    for (const name of ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"] as const) {
      if (!e[name])
        throw new ConfigError(`${name} is required when single sign-on is configured (OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together).`);
    }
    oidc = {
      issuer: e.OIDC_ISSUER!.replace(/\/$/, ""),
      clientId: e.OIDC_CLIENT_ID!,
      clientSecret: e.OIDC_CLIENT_SECRET!,
      displayName: e.OIDC_NAME ?? "single sign-on",
      roleClaim: e.OIDC_ROLE_CLAIM ?? "groups",
      roleMap: parseRoleMap(e.OIDC_ROLE_MAP),
      defaultRole: (e.OIDC_DEFAULT_ROLE as StaffRole | undefined) ?? null,
    };
  }
  const proxy = e.TRUSTED_PROXY?.toLowerCase();
  if ((e.AUDIT_RETENTION_DAYS === undefined) !== (e.AUDIT_ARCHIVE_DIR === undefined)) {
    throw new ConfigError("AUDIT_RETENTION_DAYS and AUDIT_ARCHIVE_DIR go together: audit events are deleted only after they are archived to that directory.");
  }
  const regions = parseRegions(e.TOKENDESK_REGIONS);
  return {
    mode: databaseUrl ? "postgres" : "embedded",
    databaseUrl,
    dataDir,
    secret: e.TOKENDESK_SECRET ?? embeddedSecret(dataDir),
    port,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ""),
    trustedProxyHeader: proxy && proxy !== "none" ? proxy : null,
    // Origins are compared as browsers send them: scheme://host[:port], lowercase, no trailing slash.
    corsAllowedOrigins: (e.CORS_ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim().toLowerCase())
      .filter(Boolean),
    oidc,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === "1" || e.WEBHOOK_ALLOW_PRIVATE === "true",
    production: e.NODE_ENV === "production",
    poolMax: e.DATABASE_POOL_MAX ?? 10,
    apiKeyCacheMs: e.API_KEY_CACHE_MS ?? 5_000,
    regions,
    logLevel: (e.LOG_LEVEL?.toLowerCase() as LogLevel | undefined) ?? "info",
    metrics: { token: e.METRICS_TOKEN ?? null, port: e.METRICS_PORT ?? null },
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
    auditRetention:
      e.AUDIT_RETENTION_DAYS !== undefined && e.AUDIT_ARCHIVE_DIR !== undefined
        ? { days: e.AUDIT_RETENTION_DAYS, archiveDir: path.resolve(/*turbopackIgnore: true*/ e.AUDIT_ARCHIVE_DIR) }
        : null,
    demo: !databaseUrl && e.TOKENDESK_DEMO !== "0",
    background: e.TOKENDESK_BACKGROUND !== "0",
  };
}

/** TOKENDESK_REGIONS as a list (validated by the schema above); `us,eu` when unset. */
export function parseRegions(raw: string | undefined): string[] {
  const list = raw ? [...new Set(raw.split(",").map((r) => r.trim().toLowerCase()))].filter(Boolean) : [];
  return list.length ? list : ["us", "eu"];
}

const globalForConfig = globalThis as unknown as { __tokendeskConfig?: Config };

/** The process-wide configuration, parsed on first use. */
export function config(): Config {
  globalForConfig.__tokendeskConfig ??= parseConfig();
  return globalForConfig.__tokendeskConfig;
}
