/**
 * The checks a form step's field values pass, shared by the server (lib/idv/sessions.ts, the
 * authority) and the phone's form (which says the same sentence before sending). Pure: no database.
 */
import type { WorkflowStep } from "@/db/schema";

type Field = NonNullable<WorkflowStep["fields"]>[number];

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A date field that holds a date of birth (by its name or label): it cannot lie in the future. */
export function isBirthDate(f: Pick<Field, "name" | "label" | "type">): boolean {
  return f.type === "date" && (/birth|^dob$/i.test(f.name) || /birth/i.test(f.label));
}

/** Today's date (UTC) as YYYY-MM-DD. */
export const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Why a non-empty value does not fit its field, in the person's words; null when it fits. */
export function fieldProblem(f: Field, v: string, now: Date = new Date()): string | null {
  if (v.length > 500) return `${f.label} must be at most 500 characters.`;
  if (f.type === "email" && !EMAIL.test(v)) return `${f.label} must be an email address.`;
  if (f.type === "date") {
    const d = /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`) : null;
    if (!d || Number.isNaN(d.getTime()) || isoDay(d) !== v) return `${f.label} must be a date (YYYY-MM-DD).`;
    if (isBirthDate(f)) {
      // Compared as calendar days in UTC: a birthday "today" anywhere on Earth is accepted.
      if (v > isoDay(new Date(now.getTime() + 14 * 3_600_000))) return `${f.label} cannot be in the future.`;
    }
  }
  if (f.pattern && !new RegExp(`^(?:${f.pattern})$`).test(v)) return `${f.label} is not in the expected format.`;
  return null;
}
