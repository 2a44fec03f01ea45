import { config } from "@/lib/config/env";

/** Regions a deployment serves: TOKENDESK_REGIONS (e.g. `us,eu,ap`), parsed by the configuration; `us,eu` by default. */
export function regions(): string[] {
  return config().regions;
}

export function isRegion(value: unknown): value is string {
  return typeof value === "string" && regions().includes(value);
}
