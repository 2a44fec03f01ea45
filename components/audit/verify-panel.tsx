"use client";
import { useActionState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import type { ActionResult } from "@/server/actions";

type Report = { ok: boolean };

export function VerifyPanel<T extends Report>({ action }: { action: (prev: ActionResult<T> | null, form: FormData) => Promise<ActionResult<T>> }) {
  const [state, formAction, pending] = useActionState(action, null);
  return (
    <form action={formAction} className="flex flex-wrap items-center gap-3">
      <Button type="submit" variant="secondary" disabled={pending}>
        {pending ? "Verifying…" : "Verify the chain now"}
      </Button>
      <div aria-live="polite" className="min-w-0 flex-1">
        {state ? (
          state.ok ? (
            <Alert tone={state.data.ok ? "success" : "error"} title={state.data.ok ? "Verified" : "Tampering detected"}>
              {state.message}
            </Alert>
          ) : (
            <Alert tone="error">{state.error}</Alert>
          )
        ) : null}
      </div>
    </form>
  );
}
