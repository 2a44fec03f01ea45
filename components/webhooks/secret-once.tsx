"use client";
import { CopyButton } from "@/components/tokens/copy-button";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogClose } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/input";

/** A signing secret on screen for the only time, with how a receiver uses it. */
export function SecretOnce({ secret, label, note }: { secret: string; label: string; note?: string }) {
  return (
    <div className="space-y-4" data-testid="new-webhook-secret">
      <Alert tone="warning" title="You won't see this secret again">
        tokendesk stores it encrypted and never shows it again. If you lose it, rotate the secret.
      </Alert>
      <Field label={label} htmlFor="new-webhook-secret-value">
        <div className="flex gap-2">
          <Input
            id="new-webhook-secret-value"
            readOnly
            autoFocus
            value={secret}
            className="font-mono text-xs"
            data-testid="webhook-secret"
            onFocus={(e) => e.currentTarget.select()}
          />
          <CopyButton value={secret} label="Copy secret" />
        </div>
      </Field>
      <p className="text-sm text-slate-600">
        Verify each delivery with the Standard Webhooks library of your language, e.g.{" "}
        <code className="rounded bg-slate-100 px-1">new Webhook(secret).verify(body, headers)</code> from the{" "}
        <code className="rounded bg-slate-100 px-1">standardwebhooks</code> npm package.
        {note ? ` ${note}` : null}
      </p>
      <div className="flex justify-end">
        <DialogClose asChild>
          <Button>I have stored the secret</Button>
        </DialogClose>
      </div>
    </div>
  );
}
