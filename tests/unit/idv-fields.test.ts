/** The form checks the server and the phone share (lib/idv/fields.ts, issue 14 point 10). */
import { describe, expect, it } from "vitest";
import { fieldProblem, isBirthDate } from "@/lib/idv/fields";

const dob = { name: "dateOfBirth", label: "Date of birth", type: "date" as const, required: true };
const expiry = { name: "documentExpiry", label: "Document expires", type: "date" as const, required: false };
const now = new Date("2026-12-01T10:00:00Z");

describe("form field checks", () => {
  it("refuses a date of birth in the future, and accepts today and the past", () => {
    expect(isBirthDate(dob)).toBe(true);
    expect(fieldProblem(dob, "2030-01-01", now)).toBe("Date of birth cannot be in the future.");
    expect(fieldProblem(dob, "2026-12-03", now)).toBe("Date of birth cannot be in the future.");
    expect(fieldProblem(dob, "2026-12-01", now)).toBeNull();
    // Already the 2nd somewhere east of UTC: a baby born there today is not refused.
    expect(fieldProblem(dob, "2026-12-02", now)).toBeNull();
    expect(fieldProblem(dob, "1815-12-10", now)).toBeNull();
    expect(fieldProblem(dob, "1990-02-30", now)).toBe("Date of birth must be a date (YYYY-MM-DD).");
  });

  it("lets other date fields lie in the future, and checks emails and patterns", () => {
    expect(isBirthDate(expiry)).toBe(false);
    expect(fieldProblem(expiry, "2031-06-30", now)).toBeNull();
    expect(fieldProblem({ name: "email", label: "Email", type: "email", required: false }, "nope", now)).toBe("Email must be an email address.");
    expect(fieldProblem({ name: "zip", label: "ZIP", type: "text", required: true, pattern: "\\d{5}" }, "12a45", now)).toBe(
      "ZIP is not in the expected format.",
    );
  });
});
