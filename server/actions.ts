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
    const parsed = schema.safeParse(form instanceof FormData ? formToObject(form) : form);
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
