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
  children?: ReactNode;
  onDone?: (message: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const { state, formAction, pending, onSubmit } = useFormAction(async (prev: ActionResult<string> | null, form: FormData) => {
    const result = await action(prev, form);
    if (result.ok) {
      setOpen(false);
      onDone?.(result.message ?? "Done.");
    }
    return result;
  });
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
          {children}
          <Field label="Reason" htmlFor={id} hint={reasonHint} error={state && !state.ok && (state.field === "reason" || !state.field) ? state.error : null}>
            <Textarea id={id} name="reason" required maxLength={500} />
          </Field>
          {state && !state.ok && state.field && state.field !== "reason" ? <Alert tone="error">{state.error}</Alert> : null}
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
