"use client";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { ActionForm, type FormAction } from "./action-form";

/** Shown to admins while the demo team's accounts (whose passwords are public) exist. */
export function DemoWarning({ count, action }: { count: number; action: FormAction }) {
  return (
    <Alert tone="warning" title="The demo team can sign in" className="mb-6">
      <p>
        {count} demo account{count === 1 ? "" : "s"} with published passwords exist{count === 1 ? "s" : ""}. Before real use, add an admin of your own on the
        Staff page, sign in with it, and remove the demo team (or run <code>npx tokendesk staff remove-demo</code>).
      </p>
      <ActionForm action={action} className="mt-2" label="Remove the demo team">
        {(pending) => (
          <Button type="submit" size="sm" variant="danger" disabled={pending}>
            {pending ? "Removing…" : "Remove the demo team"}
          </Button>
        )}
      </ActionForm>
    </Alert>
  );
}
