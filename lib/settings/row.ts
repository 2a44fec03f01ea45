/**
 * The environment settings as columns of a larger raw statement (a left join on
 * `environment_settings s`), for the token endpoints that read them with the row they lock.
 * A missing row means the defaults, as in `getSettings`.
 */
import { sql } from "drizzle-orm";
import type { EnvironmentSettings } from "@/db/schema";

export type Settings = Pick<
  EnvironmentSettings,
  "environment" | "signInTokenTtlSeconds" | "accessTokenTtlSeconds" | "refreshAbsoluteTtlSeconds" | "refreshGraceSeconds"
>;

export const DEFAULT_SETTINGS = {
  signInTokenTtlSeconds: 600,
  accessTokenTtlSeconds: 3600,
  refreshAbsoluteTtlSeconds: 365 * 24 * 3600,
  refreshGraceSeconds: 10,
} as const;

/** Select-list fragment; the joined table must be aliased `s`. */
export const SETTINGS_COLUMNS = sql.raw(
  "s.environment is not null as s_found, s.sign_in_token_ttl_seconds as s_sign_in_ttl, s.access_token_ttl_seconds as s_access_ttl, " +
    "s.refresh_absolute_ttl_seconds as s_refresh_absolute_ttl, s.refresh_grace_seconds as s_refresh_grace",
);

export function settingsOfRow(environment: Settings["environment"], raw: Record<string, unknown>): Settings {
  if (!raw.s_found) return { environment, ...DEFAULT_SETTINGS };
  return {
    environment,
    signInTokenTtlSeconds: Number(raw.s_sign_in_ttl),
    accessTokenTtlSeconds: Number(raw.s_access_ttl),
    refreshAbsoluteTtlSeconds: Number(raw.s_refresh_absolute_ttl),
    refreshGraceSeconds: Number(raw.s_refresh_grace),
  };
}
