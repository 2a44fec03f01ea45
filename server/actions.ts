import "server-only";
/**
 * Every console server action goes through `staffAction`: it authenticates, checks the role,
 * parses the form with zod, runs the domain function and turns failures into sentences. The
 * domain function checks permission again itself (with the environment it acts on).
 */
import type { z } from "zod";
import { getDb } from "@/db";
import type { Database } from "@/db/client";
import type { RequestMeta } from "@/lib/context";
import { type DomainError, type ErrorCode, fromZodError, isDomainError } from "@/lib/errors";
import { log } from "@/lib/log";
import { can, type Permission, ROLE_LABELS } from "@/lib/staff/rbac";
import { unfitText } from "./http";
import { currentStaff, requestMeta, type StaffActor } from "./staff-session";

export type ActionResult<T = undefined> =
  | { ok: true; data: T; message?: string }
  | {
      ok: false;
      error: string;
      code: ErrorCode;
      /** The field the message is about, and every field's own sentence, for forms to show at each field. */
      field?: string;
      fields?: Record<string, string>;
    };

/** A DomainError as a form reads it. */
function refusal(err: DomainError): { ok: false; error: string; code: ErrorCode; field?: string; fields?: Record<string, string> } {
  const fields = err.extra.fields as Record<string, string> | undefined;
  return { ok: false, code: err.code, error: err.message, field: err.extra.field as string | undefined, ...(fields ? { fields } : {}) };
}

export interface ActionContext {
  actor: StaffActor;
  db: Database;
  meta: RequestMeta;
}

function formToObject(form: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of form.entries()) {
    if (k.startsWith("$ACTION")) continue;
    if (typeof v === "string") out[k] = v;
  }
  return out;
}

/**
 * The first form field whose text may not enter tokendesk (a NUL: PostgreSQL text cannot hold one),
 * as a refusal at that field. The machine API checks every string at its edge (server/http.ts); the
 * console's forms are the other way in, and without this a NUL typed or posted into any field reached
 * the database and came back as "Something went wrong".
 */
function unfitField(input: Record<string, unknown>): { ok: false; error: string; code: ErrorCode; field: string; fields: Record<string, string> } | null {
  for (const [k, v] of Object.entries(input)) {
    const why = typeof v === "string" ? unfitText(v) : null;
    if (why) return { ok: false, code: "validation_failed", error: `This field ${why}.`, field: k, fields: { [k]: `This field ${why}.` } };
  }
  return null;
}

export function staffAction<S extends z.ZodType, T>(
  permission: Permission,
  schema: S,
  handler: (input: z.infer<S>, ctx: ActionContext) => Promise<T | { data: T; message: string }>,
) {
  return async (_previous: ActionResult<T> | null, form: FormData): Promise<ActionResult<T>> => {
    const actor = await currentStaff();
    if (!actor) return { ok: false, code: "unauthorized", error: "Your session has ended. Sign in again to continue." };
    if (!can(actor.role, permission)) {
      return { ok: false, code: "forbidden", error: `The ${ROLE_LABELS[actor.role]} role may not do this.` };
    }
    const input = form instanceof FormData ? formToObject(form) : form;
    const unfit = input && typeof input === "object" ? unfitField(input as Record<string, unknown>) : null;
    if (unfit) return unfit;
    const parsed = schema.safeParse(input);
    if (!parsed.success) return refusal(fromZodError(parsed.error, schema));
    try {
      const result = await handler(parsed.data, { actor, db: await getDb(), meta: await requestMeta() });
      if (result && typeof result === "object" && "message" in result && "data" in result) {
        return { ok: true, data: (result as { data: T }).data, message: (result as { message: string }).message };
      }
      return { ok: true, data: result as T };
    } catch (err) {
      if (isDomainError(err)) return refusal(err);
      log().error({ err }, "server action failed");
      return { ok: false, code: "internal_error", error: "Something went wrong on our side; nothing was changed. Try again." };
    }
  };
}
