"use client";
import type { ReactNode } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogClose, useCloseGuard } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/input";
import { CopyButton } from "./copy-button";

/**
 * A credential on screen for the only time (an API key, a webhook signing secret): a warning,
 * the value selected for copying, how to use it, and a button that closes the dialog. Escape or a
 * click outside asks first (issue 14, point 4): the value cannot be shown again.
 */
export function ShownOnce({
  value,
  label,
  testId,
  warningTitle,
  warning,
  copyLabel,
  doneLabel,
  noun = "the secret",
  children,
}: {
  value: string;
  label: string;
  /** `data-testid` of the input holding the value; its container is `new-<testId>`. */
  testId: string;
  warningTitle: string;
  warning: ReactNode;
  copyLabel: string;
  doneLabel: string;
  /** What it is, for the question asked before it is dismissed: "Close without the key?". */
  noun?: string;
  /** How to use it. */
  children: ReactNode;
}) {
  useCloseGuard({
    question: `Close without ${noun}?`,
    detail: "It is shown only once. If you have not stored it, you would have to replace it with a new one.",
    leaveLabel: "Close, I have stored it",
    stayLabel: "Keep it open",
  });
  return (
    <div className="space-y-4" data-testid={`new-${testId}`}>
      <Alert tone="warning" title={warningTitle}>
        {warning}
      </Alert>
      <Field label={label} htmlFor={`${testId}-value`}>
        <div className="flex gap-2">
          <Input
            id={`${testId}-value`}
            readOnly
            autoFocus
            value={value}
            className="font-mono text-xs"
            data-testid={testId}
            onFocus={(e) => e.currentTarget.select()}
          />
          <CopyButton value={value} label={copyLabel} />
        </div>
      </Field>
      <div className="text-sm text-slate-600">{children}</div>
      <div className="flex justify-end">
        <DialogClose asChild>
          <Button>{doneLabel}</Button>
        </DialogClose>
      </div>
    </div>
  );
}
