/** Regions a deployment serves. The operator can extend the list with TOKENDESK_REGIONS=us,eu,ap. */
export function regions(): string[] {
  const raw = process.env.TOKENDESK_REGIONS;
  const list = raw
    ? raw
        .split(",")
        .map((r) => r.trim().toLowerCase())
        .filter((r) => /^[a-z]{2,8}$/.test(r))
    : [];
  return list.length ? list : ["us", "eu"];
}

export function isRegion(value: unknown): value is string {
  return typeof value === "string" && regions().includes(value);
}
