"use client";
import { useActionState } from "react";
import { CopyButton } from "@/components/tokens/copy-button";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/input";
import type { ActionResult } from "@/server/actions";

export interface AnchorView {
  anchor: string;
  sealedAt: string;
}

type Report = { ok: boolean; latest: AnchorView | null };

/**
 * Verifies the chain, optionally against an anchor kept outside the database, and shows the latest
 * anchor (the newest seal) to copy and keep — after a verification, the one it saw.
 */
export function VerifyPanel<T extends Report>({
  action,
  latest,
}: {
  action: (prev: ActionResult<T> | null, form: FormData) => Promise<ActionResult<T>>;
  latest: AnchorView | null;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  const shown = state?.ok ? state.data.latest : latest;
  return (
    <div className="space-y-4">
      <form action={formAction} className="flex flex-wrap items-end gap-3">
        <Field
          label="Anchor to check against (optional)"
          htmlFor="audit-anchor"
          error={state && !state.ok && state.field === "anchor" ? state.error : undefined}
        >
          <Input id="audit-anchor" name="anchor" placeholder="1042:Qm3…" autoComplete="off" spellCheck={false} className="w-80 font-mono" />
        </Field>
        <Button type="submit" variant="secondary" disabled={pending}>
          {pending ? "Verifying…" : "Verify the chain now"}
        </Button>
      </form>
      <div aria-live="polite" className="min-w-0">
        {state ? (
          state.ok ? (
            <Alert tone={state.data.ok ? "success" : "error"} title={state.data.ok ? "Verified" : "Tampering detected"}>
              {state.message}
            </Alert>
          ) : state.field === "anchor" ? null : (
            <Alert tone="error">{state.error}</Alert>
          )
        ) : null}
      </div>
      <div className="text-sm text-slate-600" data-testid="latest-anchor">
        {shown ? (
          <div className="flex flex-wrap items-center gap-2">
            <span>Latest anchor (keep it outside the database; verify against it later):</span>
            <code className="break-all rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-800">{shown.anchor}</code>
            <CopyButton value={shown.anchor} size="sm" variant="ghost" label="Copy anchor" />
            <span className="text-xs text-slate-500">sealed {shown.sealedAt.replace("T", " ").slice(0, 19)} UTC</span>
          </div>
        ) : (
          <span>No seal yet: the first events are sealed within seconds.</span>
        )}
      </div>
    </div>
  );
}
