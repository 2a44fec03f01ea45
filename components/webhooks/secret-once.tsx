"use client";
import { ShownOnce } from "@/components/tokens/shown-once";

/** A webhook signing secret on screen for the only time, with how a receiver uses it. */
export function SecretOnce({ secret, label, note }: { secret: string; label: string; note?: string }) {
  return (
    <ShownOnce
      value={secret}
      label={label}
      testId="webhook-secret"
      warningTitle="You won't see this secret again"
      warning="tokendesk stores it encrypted and never shows it again. If you lose it, rotate the secret."
      copyLabel="Copy secret"
      doneLabel="I have stored the secret"
    >
      <p>
        Verify each delivery with the Standard Webhooks library of your language, e.g.{" "}
        <code className="rounded bg-slate-100 px-1">new Webhook(secret).verify(body, headers)</code> from the{" "}
        <code className="rounded bg-slate-100 px-1">standardwebhooks</code> npm package.
        {note ? ` ${note}` : null}
      </p>
    </ShownOnce>
  );
}
