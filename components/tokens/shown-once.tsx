"use client";
import type { ReactNode } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogClose } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/input";
import { CopyButton } from "./copy-button";

/**
 * A credential on screen for the only time (an API key, a webhook signing secret): a warning,
 * the value selected for copying, how to use it, and a button that closes the dialog.
 */
export function ShownOnce({
  value,
  label,
  testId,
  warningTitle,
  warning,
  copyLabel,
  doneLabel,
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
  /** How to use it. */
  children: ReactNode;
}) {
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
