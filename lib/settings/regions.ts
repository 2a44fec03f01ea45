import { parseRegions } from "@/lib/config/env";

/**
 * Regions a deployment serves: TOKENDESK_REGIONS (e.g. `us,eu,ap`; `us,eu` by default), validated
 * with the rest of the configuration at start. Read on its own, not through config(): schemas use it
 * at module load, before a command such as `restore` has put the data directory's secret in place.
 */
export function regions(): string[] {
  return parseRegions(process.env.TOKENDESK_REGIONS);
}

export function isRegion(value: unknown): value is string {
  return typeof value === "string" && regions().includes(value);
}
