"use client";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogActions, DialogContent } from "@/components/ui/dialog";
import { FreshDialog } from "@/components/ui/fresh-dialog";
import { Field, FieldError, Input, Select } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import type { WebhookEndpointView } from "@/lib/webhooks/endpoints";
import type { ActionResult } from "@/server/actions";
import { SecretOnce } from "./secret-once";

type Created = { endpoint: WebhookEndpointView; secret: string };
type CreateAction = (prev: ActionResult<Created> | null, form: FormData) => Promise<ActionResult<Created>>;

/** Register an endpoint, then show its signing secret exactly once. */
export function CreateEndpointDialog({ action, events }: { action: CreateAction; events: Array<{ type: string; description: string }> }) {
  return (
    <FreshDialog trigger={<Button>Add endpoint</Button>}>
      {/* A fresh form per opening: a secret must never be shown twice. */}
      <CreateEndpointBody action={action} events={events} />
    </FreshDialog>
  );
}

function CreateEndpointBody({ action, events }: { action: CreateAction; events: Array<{ type: string; description: string }> }) {
  // What was typed stays after a refusal; each field shows its own sentence.
  const { state, formAction, pending, onSubmit, fieldError, formError } = useFormAction(action, ["url", "environment", "description", "eventTypes"]);
  const [all, setAll] = useState(true);

  if (state?.ok) {
    const { endpoint, secret } = state.data;
    return (
      <DialogContent title="Copy the signing secret" description={`Deliveries to ${endpoint.url} are signed with this secret.`}>
        <SecretOnce secret={secret} label={`${endpoint.environment} · ${endpoint.url}`} />
      </DialogContent>
    );
  }

  return (
    <DialogContent title="Add a webhook endpoint" description="tokendesk POSTs the events you pick, signed per Standard Webhooks, to this URL.">
      <form action={formAction} onSubmit={onSubmit} className="space-y-4" aria-label="Add a webhook endpoint">
        <Field label="URL" htmlFor="endpoint-url" hint="https://… on your backend; private and loopback addresses are refused." error={fieldError("url")}>
          <Input
            id="endpoint-url"
            name="url"
            type="url"
            required
            maxLength={2000}
            autoFocus
            placeholder="https://api.example.com/tokendesk/webhooks"
            aria-invalid={fieldError("url") ? true : undefined}
          />
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field label="Environment" htmlFor="endpoint-env" hint="Only this environment's events" error={fieldError("environment")}>
            <Select id="endpoint-env" name="environment" defaultValue="sandbox">
              <option value="sandbox">sandbox</option>
              <option value="production">production</option>
            </Select>
          </Field>
          <Field label="Description" htmlFor="endpoint-description" hint="Optional" error={fieldError("description")}>
            <Input id="endpoint-description" name="description" maxLength={200} aria-invalid={fieldError("description") ? true : undefined} />
          </Field>
        </div>
        <fieldset aria-describedby={fieldError("eventTypes") ? "endpoint-events-error" : undefined}>
          <legend className="mb-1 text-sm font-medium text-slate-700">Events</legend>
          <label className="flex items-center gap-2 py-1 text-sm font-medium">
            <input type="checkbox" name="event:all" checked={all} onChange={(e) => setAll(e.target.checked)} className="size-4" />
            All events
          </label>
          {all ? null : (
            <div className="ml-6 grid max-h-64 gap-0.5 overflow-y-auto">
              {events.map((e) => (
                <label key={e.type} className="flex items-start gap-2 py-0.5 text-sm">
                  <input type="checkbox" name={`event:${e.type}`} className="mt-0.5 size-4" />
                  <span>
                    <code className="font-mono text-xs">{e.type}</code> <span className="text-slate-500">— {e.description}</span>
                  </span>
                </label>
              ))}
            </div>
          )}
          <FieldError id="endpoint-events-error" error={fieldError("eventTypes")} />
        </fieldset>
        {formError ? <Alert tone="error">{formError}</Alert> : null}
        <DialogActions submit="Add endpoint" pendingLabel="Adding…" pending={pending} />
      </form>
    </DialogContent>
  );
}
