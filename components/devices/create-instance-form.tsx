"use client";

import { CopyButton } from "@/components/tokens/copy-button";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ActionResult } from "@/server/actions";

export interface CreatedInstance {
  instanceId: string;
  instanceKey: string;
  name: string;
  environment: string;
}

type Action = (prev: ActionResult<CreatedInstance> | null, form: FormData) => Promise<ActionResult<CreatedInstance>>;

/** Creates an instance and shows its InstanceKey this once, with a copy button. */
export function CreateInstanceForm({ action }: { action: Action }) {
  const { state, formAction, pending, onSubmit } = useFormAction(action);
  const fieldError = (name: string) => (state && !state.ok && state.field === name ? state.error : null);
  return (
    <div className="space-y-4">
      <form
        action={formAction}
        onSubmit={onSubmit}
        aria-label="Create an instance"
        className="grid gap-4 md:grid-cols-[1fr_10rem_10rem_10rem_auto] md:items-end"
      >
        <Field label="Name" htmlFor="instance-name" error={fieldError("name")}>
          <Input id="instance-name" name="name" required maxLength={120} placeholder="Fleet app (iOS + Android)" />
        </Field>
        <Field label="Environment" htmlFor="instance-env" error={fieldError("environment")}>
          <Select id="instance-env" name="environment" defaultValue="sandbox">
            <option value="sandbox">sandbox</option>
            <option value="production">production</option>
          </Select>
        </Field>
        <Field label="JWT lifetime (s)" htmlFor="instance-jwt" error={fieldError("jwtTtlSeconds")}>
          <Input id="instance-jwt" name="jwtTtlSeconds" type="number" min={60} defaultValue={86400} />
        </Field>
        <Field label="Refresh lifetime (days)" htmlFor="instance-refresh" error={fieldError("refreshTtlSeconds")}>
          <Input id="instance-refresh" name="refreshTtlDays" type="number" min={1} defaultValue={90} />
        </Field>
        <Button type="submit" disabled={pending}>
          {pending ? "Creating…" : "Create instance"}
        </Button>
      </form>
      <div aria-live="polite">
        {state && !state.ok && !["name", "environment", "jwtTtlSeconds", "refreshTtlSeconds"].includes(state.field ?? "") ? (
          <Alert tone="error">{state.error}</Alert>
        ) : null}
        {state?.ok ? (
          <Alert tone="success" title={`Instance "${state.data.name}" created (${state.data.environment}).`}>
            <p>Give these to the app&apos;s developers. The InstanceKey is shown this once; tokendesk keeps only its hash.</p>
            <dl className="mt-3 grid gap-2 text-slate-900 md:grid-cols-[8rem_1fr_auto] md:items-center">
              <dt className="font-medium">InstanceId</dt>
              <dd className="break-all font-mono text-xs" data-testid="new-instance-id">
                {state.data.instanceId}
              </dd>
              <dd>
                <CopyButton value={state.data.instanceId} label="Copy InstanceId" />
              </dd>
              <dt className="font-medium">InstanceKey</dt>
              <dd className="break-all font-mono text-xs" data-testid="new-instance-key">
                {state.data.instanceKey}
              </dd>
              <dd>
                <CopyButton value={state.data.instanceKey} label="Copy InstanceKey" />
              </dd>
            </dl>
          </Alert>
        ) : null}
      </div>
    </div>
  );
}
