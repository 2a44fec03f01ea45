/** Every user, key, token, instance and setting belongs to one environment (API.md). */
export const ENVIRONMENTS = ["sandbox", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: unknown): value is Environment {
  return value === "sandbox" || value === "production";
}
