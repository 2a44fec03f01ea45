"use client";
import type { ReactNode } from "react";
import { Alert } from "@/components/ui/alert";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ActionResult } from "@/server/actions";

export type FormAction = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;

/**
 * A form bound to a staff server action, with its outcome announced in words. What was typed stays
 * after a refusal; fields named in `fields` show their own sentence (`fieldError(name)` for the
 * children), anything else is said below the form.
 */
export function ActionForm({
  action,
  children,
  className,
  label,
  fields = [],
}: {
  action: FormAction;
  children: (pending: boolean, fieldError: (name: string) => string | null) => ReactNode;
  className?: string;
  label?: string;
  fields?: readonly string[];
}) {
  const { state, formAction, pending, onSubmit, fieldError, formError } = useFormAction(action, fields);
  return (
    <form action={formAction} onSubmit={onSubmit} className={className} aria-label={label}>
      {children(pending, fieldError)}
      <div aria-live="polite" className="col-span-full basis-full">
        {state?.ok && state.message ? (
          <Alert tone="success" className="mt-2">
            {state.message}
          </Alert>
        ) : null}
        {formError ? (
          <Alert tone="error" className="mt-2">
            {formError}
          </Alert>
        ) : null}
      </div>
    </form>
  );
}
