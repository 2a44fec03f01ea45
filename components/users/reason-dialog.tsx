"use client";
import { type ReactNode, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button, type ButtonProps } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogTrigger } from "@/components/ui/dialog";
import { Field, Textarea } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ActionResult } from "@/server/actions";

export type ReasonAction = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;

/**
 * A confirmation dialog for a support action that must say why: the reason goes to the audit log.
 * On success it closes and reports the server's sentence through `onDone`.
 */
export function ReasonDialog({
  trigger,
  triggerVariant = "secondary",
  triggerLabel,
  title,
  description,
  submitLabel,
  pendingLabel,
  danger,
  action,
  hidden,
  reasonHint = "Recorded in the audit log with your name.",
  children,
  fields = [],
  onDone,
}: {
  trigger: string;
  triggerVariant?: ButtonProps["variant"];
  triggerLabel?: string;
  title: string;
  description: ReactNode;
  submitLabel: string;
  pendingLabel: string;
  danger?: boolean;
  action: ReasonAction;
  hidden: Record<string, string>;
  reasonHint?: string;
  /** Extra fields above the reason; a function gets each field's own error sentence (see `fields`). */
  children?: ReactNode | ((fieldError: (name: string) => string | null) => ReactNode);
  /** Names of the fields `children` shows errors at; other fields' refusals show above the buttons. */
  fields?: readonly string[];
  onDone?: (message: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const { state, formAction, pending, onSubmit, fieldError } = useFormAction(
    async (prev: ActionResult<string> | null, form: FormData) => {
      const result = await action(prev, form);
      if (result.ok) {
        setOpen(false);
        onDone?.(result.message ?? "Done.");
      }
      return result;
    },
    ["reason", ...fields],
  );
  const refusal = state && !state.ok ? state : null;
  // A refusal about no field in particular (forbidden, not found) is said at the reason.
  const reasonError = fieldError("reason") ?? (refusal && !refusal.field ? refusal.error : null);
  const otherError = refusal?.field && refusal.field !== "reason" && !fields.includes(refusal.field) ? refusal.error : null;
  const id = `reason-${Object.values(hidden).join("-")}-${trigger.replace(/\W+/g, "-")}`;
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant={triggerVariant} size="sm" aria-label={triggerLabel}>
          {trigger}
        </Button>
      </DialogTrigger>
      <DialogContent title={title} description={description}>
        <form action={formAction} onSubmit={onSubmit} className="space-y-4">
          {Object.entries(hidden).map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          {typeof children === "function" ? children(fieldError) : children}
          <Field label="Reason" htmlFor={id} hint={reasonHint} error={reasonError}>
            <Textarea id={id} name="reason" required maxLength={500} aria-invalid={reasonError ? true : undefined} />
          </Field>
          {otherError ? <Alert tone="error">{otherError}</Alert> : null}
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button variant="ghost">Cancel</Button>
            </DialogClose>
            <Button type="submit" variant={danger ? "danger" : "primary"} disabled={pending}>
              {pending ? pendingLabel : submitLabel}
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}
