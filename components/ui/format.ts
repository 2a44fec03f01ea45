/**
 * Every date and time the console shows goes through here: UTC, to the minute or second, the same
 * on every page and in the audit log (staff in different time zones quote them to each other).
 */
export function formatUtc(value: Date | string | null | undefined, opts: { seconds?: boolean } = {}): string {
  if (!value) return "—";
  const d = typeof value === "string" ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) return "—";
  return `${d
    .toISOString()
    .replace("T", " ")
    .slice(0, opts.seconds ? 19 : 16)} UTC`;
}

/** "14:03:59 UTC": the time of day of something that happened moments ago. */
export function formatTimeOfDay(value: Date | string): string {
  return `${formatUtc(value, { seconds: true }).slice(11)}`;
}

const UNITS: Array<[number, string]> = [
  [365 * 86_400, "year"],
  [86_400, "day"],
  [3600, "hour"],
  [60, "minute"],
  [1, "second"],
];

/** 600 → "10 minutes", 90061 → "1 day, 1 hour, 1 minute and 1 second". */
export function durationInWords(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return "";
  if (totalSeconds === 0) return "0 seconds";
  let rest = Math.floor(totalSeconds);
  const parts: string[] = [];
  for (const [size, name] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? "" : "s"}`);
      rest -= n * size;
    }
  }
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}` : parts[0]!;
}

/** "3 minutes ago", "in 2 hours": coarse, for lists. */
export function relativeTime(value: Date | string | null | undefined, now: Date = new Date()): string {
  if (!value) return "never";
  const d = typeof value === "string" ? new Date(value) : value;
  const diff = Math.round((d.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(diff);
  // Clocks of browser, server and database differ by a little: a moment either way is "just now".
  if (abs < 45) return diff > 5 ? "in a few seconds" : "just now";
  for (const [size, name] of UNITS) {
    if (abs >= size) {
      const n = Math.round(abs / size);
      const text = `${n} ${name}${n === 1 ? "" : "s"}`;
      return diff < 0 ? `${text} ago` : `in ${text}`;
    }
  }
  return "just now";
}
