/**
 * Why staff did something: every console action that changes state (users, sessions, sign-in
 * tokens, devices, API keys, IDV handoffs, staff) asks for a reason, which goes to the audit log.
 * One rule for all of them — the same limits, the same sentences, the same codes — here.
 */
import { z } from "zod";
import { DomainError } from "@/lib/errors";

export const REASON_MAX_LENGTH = 500;

/** The reason field of a console form: text, limits checked by `requireReason` in the domain. */
export const reasonField = z
  .string("is required")
  .max(REASON_MAX_LENGTH * 2, `must be at most ${REASON_MAX_LENGTH} characters`)
  .meta({ title: "Reason" });

/**
 * The trimmed reason, or a refusal: `reason_required` (422) when it is blank — unless `optional`
 * (API keys and the system may act without one) — and `validation_failed` (422) past
 * REASON_MAX_LENGTH characters. `what` finishes "Give a reason for …".
 */
export function requireReason(reason: unknown, what: string): string;
export function requireReason(reason: unknown, what: string, opts: { optional: boolean }): string | null;
export function requireReason(reason: unknown, what: string, opts: { optional?: boolean } = {}): string | null {
  const why = typeof reason === "string" ? reason.trim() : "";
  if (!why) {
    if (opts.optional) return null;
    throw new DomainError("reason_required", `Give a reason for ${what}.`, { field: "reason" });
  }
  if (why.length > REASON_MAX_LENGTH) {
    throw new DomainError("validation_failed", `The reason must be at most ${REASON_MAX_LENGTH} characters.`, { field: "reason" });
  }
  return why;
}
