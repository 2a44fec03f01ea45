"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogActions, DialogContent, DialogTrigger } from "@/components/ui/dialog";
import { FreshDialog } from "@/components/ui/fresh-dialog";
import { Field, Select } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import type { WebhookEndpointView } from "@/lib/webhooks/endpoints";
import type { ActionResult } from "@/server/actions";
import { SecretOnce } from "./secret-once";

type SimpleAction = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;
type RotateAction = (
  prev: ActionResult<{ endpoint: WebhookEndpointView; secret: string }> | null,
  form: FormData,
) => Promise<ActionResult<{ endpoint: WebhookEndpointView; secret: string }>>;

/** A one-button form bound to a server action; its sentence is announced below the buttons. */
function ActionButton({
  action,
  fields,
  label,
  pendingLabel,
  variant = "secondary",
  onResult,
}: {
  action: SimpleAction;
  fields: Record<string, string>;
  label: string;
  pendingLabel: string;
  variant?: "primary" | "secondary" | "danger";
  onResult: (r: ActionResult<string>) => void;
}) {
  const { formAction, pending, onSubmit } = useFormAction(async (prev: ActionResult<string> | null, form: FormData) => {
    const r = await action(prev, form);
    onResult(r);
    return r;
  });
  return (
    <form action={formAction} onSubmit={onSubmit}>
      {Object.entries(fields).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      <Button type="submit" size="sm" variant={variant} disabled={pending}>
        {pending ? pendingLabel : label}
      </Button>
    </form>
  );
}

/** Test event, disable/enable, rotate secret (shown once), delete: an admin's actions on one endpoint. */
export function EndpointActions({
  endpoint,
  sendTest,
  setEnabled,
  rotate,
  remove,
}: {
  endpoint: WebhookEndpointView;
  sendTest: SimpleAction;
  setEnabled: SimpleAction;
  rotate: RotateAction;
  remove: SimpleAction;
}) {
  const router = useRouter();
  const [result, setResult] = useState<ActionResult<string> | null>(null);
  const done = (r: ActionResult<string>) => {
    setResult(r);
    if (r.ok) router.refresh();
  };
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        <ActionButton action={sendTest} fields={{ id: endpoint.id }} label="Send a test event" pendingLabel="Sending…" variant="primary" onResult={done} />
        <ActionButton
          action={setEnabled}
          fields={{ id: endpoint.id, enabled: endpoint.enabled ? "false" : "true" }}
          label={endpoint.enabled ? "Disable" : "Enable"}
          pendingLabel={endpoint.enabled ? "Disabling…" : "Enabling…"}
          onResult={done}
        />
        <RotateSecretDialog endpointId={endpoint.id} action={rotate} onDone={() => router.refresh()} />
        <DeleteDialog
          endpoint={endpoint}
          action={remove}
          onDone={() => {
            router.push("/webhooks");
          }}
        />
      </div>
      <div aria-live="polite">
        {result ? result.ok ? <Alert tone="success">{result.message ?? "Done."}</Alert> : <Alert tone="error">{result.error}</Alert> : null}
      </div>
    </div>
  );
}

function RotateSecretDialog({ endpointId, action, onDone }: { endpointId: string; action: RotateAction; onDone: () => void }) {
  return (
    <FreshDialog
      trigger={
        <Button size="sm" variant="secondary">
          Rotate secret
        </Button>
      }
      onClosed={onDone}
    >
      <RotateBody endpointId={endpointId} action={action} />
    </FreshDialog>
  );
}

function RotateBody({ endpointId, action }: { endpointId: string; action: RotateAction }) {
  const { state, formAction, pending, onSubmit, fieldError, formError } = useFormAction(action, ["overlap"]);
  if (state?.ok) {
    const until = state.data.endpoint.previousSecretExpiresAt;
    return (
      <DialogContent title="Copy the new signing secret" description="Deliveries are signed with it from now on.">
        <SecretOnce
          secret={state.data.secret}
          label="New secret"
          note={
            until
              ? `The previous secret also signs every delivery until ${new Date(until).toISOString().slice(0, 16).replace("T", " ")} UTC, so your receiver can switch in that time.`
              : "The previous secret no longer signs."
          }
        />
      </DialogContent>
    );
  }
  return (
    <DialogContent
      title="Rotate the signing secret?"
      description="A new secret is shown once. During the overlap each delivery carries two signatures, one per secret, so receivers holding either verify."
    >
      <form action={formAction} onSubmit={onSubmit} className="space-y-4">
        <input type="hidden" name="id" value={endpointId} />
        <Field label="Previous secret keeps signing for" htmlFor={`overlap-${endpointId}`} error={fieldError("overlap")}>
          <Select id={`overlap-${endpointId}`} name="overlap" defaultValue="86400">
            <option value="3600">1 hour</option>
            <option value="86400">1 day</option>
            <option value="604800">7 days</option>
            <option value="0">No overlap (it stops now)</option>
          </Select>
        </Field>
        {formError ? <Alert tone="error">{formError}</Alert> : null}
        <DialogActions submit="Rotate secret" pendingLabel="Rotating…" pending={pending} />
      </form>
    </DialogContent>
  );
}

function DeleteDialog({ endpoint, action, onDone }: { endpoint: WebhookEndpointView; action: SimpleAction; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const { state, formAction, pending, onSubmit } = useFormAction(async (prev: ActionResult<string> | null, form: FormData) => {
    const r = await action(prev, form);
    if (r.ok) {
      setOpen(false);
      onDone();
    }
    return r;
  });
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button size="sm" variant="danger">
          Delete
        </Button>
      </DialogTrigger>
      <DialogContent
        title="Delete this endpoint?"
        description={`Deliveries to ${endpoint.url} stop, and its delivery history goes with it. Waiting deliveries are never sent. The audit log keeps the record.`}
      >
        <form action={formAction} onSubmit={onSubmit} className="space-y-4">
          <input type="hidden" name="id" value={endpoint.id} />
          {state && !state.ok ? <Alert tone="error">{state.error}</Alert> : null}
          <DialogActions submit="Delete endpoint" pendingLabel="Deleting…" pending={pending} variant="danger" />
        </form>
      </DialogContent>
    </Dialog>
  );
}

/** Replay one finished delivery (same webhook-id). */
export function ReplayButton({ deliveryId, action }: { deliveryId: string; action: SimpleAction }) {
  const router = useRouter();
  const { state, formAction, pending, onSubmit } = useFormAction(async (prev: ActionResult<string> | null, form: FormData) => {
    const r = await action(prev, form);
    if (r.ok) router.refresh();
    return r;
  });
  return (
    <form action={formAction} onSubmit={onSubmit} className="inline">
      <input type="hidden" name="id" value={deliveryId} />
      <Button type="submit" size="sm" variant="secondary" disabled={pending}>
        {pending ? "Replaying…" : "Replay"}
      </Button>
      {state && !state.ok ? (
        <span role="alert" className="ml-2 text-xs text-red-700">
          {state.error}
        </span>
      ) : null}
    </form>
  );
}
