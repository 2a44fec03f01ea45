"use client";
import { type ReactNode, useActionState } from "react";
import { Alert } from "@/components/ui/alert";
import type { ActionResult } from "@/server/actions";

export type FormAction = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;

/** A form bound to a staff server action, with its outcome announced in words. */
export function ActionForm({
  action,
  children,
  className,
  label,
}: {
  action: FormAction;
  children: (pending: boolean) => ReactNode;
  className?: string;
  label?: string;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form action={formAction} className={className} aria-label={label}>
      {children(pending)}
      <div aria-live="polite" className="col-span-full basis-full">
        {state ? (
          state.ok ? (
            state.message ? (
              <Alert tone="success" className="mt-2">
                {state.message}
              </Alert>
            ) : null
          ) : (
            <Alert tone="error" className="mt-2">
              {state.error}
            </Alert>
          )
        ) : null}
      </div>
    </form>
  );
}
