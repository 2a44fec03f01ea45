"use client";
import { useState } from "react";
import { ShownOnce } from "@/components/tokens/shown-once";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogActions, DialogContent } from "@/components/ui/dialog";
import { FreshDialog } from "@/components/ui/fresh-dialog";
import { Field, FieldError, Input, Select } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ApiKeyView } from "@/lib/api-keys";
import type { ActionResult } from "@/server/actions";

type Created = { key: string; apiKey: ApiKeyView };
type CreateAction = (prev: ActionResult<Created> | null, form: FormData) => Promise<ActionResult<Created>>;

const SCOPE_HINTS: Record<string, string> = {
  "users:read": "look users up",
  "users:write": "create, disable and delete users",
  "sign_in_tokens:write": "issue sign-in tokens",
  "ephemeral_devices:write": "mint IDV ephemeral tokens",
  "sessions:read": "read IDV sessions",
  "tokens:introspect": "introspect access tokens",
};

/**
 * Create a key, then show it exactly once. The dialog cannot be dismissed by a stray click while the
 * key is on screen, so nobody loses a key they have not copied yet.
 */
export function CreateApiKeyDialog({ action, regions, scopes }: { action: CreateAction; regions: string[]; scopes: string[] }) {
  return (
    <FreshDialog trigger={<Button>Create API key</Button>}>
      {/* A fresh form per opening: the previous key must never be shown again. */}
      <CreateApiKeyBody action={action} regions={regions} scopes={scopes} />
    </FreshDialog>
  );
}

function CreateApiKeyBody({ action, regions, scopes }: { action: CreateAction; regions: string[]; scopes: string[] }) {
  const { state, formAction, pending, onSubmit, fieldError, formError } = useFormAction(action, ["name", "environment", "region", "scopes"]);
  const [all, setAll] = useState(false);

  if (state?.ok) {
    const { key, apiKey } = state.data;
    return (
      <DialogContent
        title="Copy your new API key"
        description="This is the only time the key is shown. Store it in your backend's secret manager now: you won't see it again."
      >
        <ShownOnce
          value={key}
          label={`${apiKey.name} · ${apiKey.environment} · ${apiKey.region}`}
          testId="api-key-secret"
          warningTitle="You won't see this key again"
          warning="tokendesk keeps only a hash of it. If you lose it, revoke it and create a new one."
          copyLabel="Copy key"
          doneLabel="I have stored the key"
          noun="the key"
        >
          <p>
            Send it as the <code className="rounded bg-slate-100 px-1">X-Vital-API-Key</code> header. Scopes: {apiKey.scopes.join(", ")}.
          </p>
        </ShownOnce>
      </DialogContent>
    );
  }

  return (
    <DialogContent title="Create an API key" description="A key belongs to one environment and region. Give it only the scopes its backend needs.">
      <form action={formAction} onSubmit={onSubmit} className="space-y-4" aria-label="Create an API key">
        <Field label="Name" htmlFor="key-name" hint="Who uses it, e.g. “Checkout backend (prod)”" error={fieldError("name")}>
          <Input id="key-name" name="name" required maxLength={100} autoFocus aria-invalid={fieldError("name") ? true : undefined} />
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field label="Environment" htmlFor="key-env" hint="sandbox keys start sk_, production pk_" error={fieldError("environment")}>
            <Select id="key-env" name="environment" defaultValue="sandbox">
              <option value="sandbox">sandbox</option>
              <option value="production">production</option>
            </Select>
          </Field>
          <Field label="Region" htmlFor="key-region" error={fieldError("region")}>
            <Select id="key-region" name="region" defaultValue={regions[0]} options={regions} />
          </Field>
        </div>
        <fieldset aria-describedby={fieldError("scopes") ? "key-scopes-error" : undefined}>
          <legend className="mb-1 text-sm font-medium text-slate-700">Scopes</legend>
          <label className="flex items-center gap-2 py-1 text-sm font-medium">
            <input type="checkbox" name="scope:all" checked={all} onChange={(e) => setAll(e.target.checked)} className="size-4" />
            All scopes
          </label>
          <div className="ml-6 grid gap-0.5">
            {scopes.map((s) => (
              <label key={s} className="flex items-center gap-2 py-0.5 text-sm">
                <input type="checkbox" name={`scope:${s}`} className="size-4" {...(all ? { checked: true, disabled: true } : {})} />
                <code className="font-mono text-xs">{s}</code>
                <span className="text-slate-500">— {SCOPE_HINTS[s] ?? ""}</span>
              </label>
            ))}
          </div>
          <FieldError id="key-scopes-error" error={fieldError("scopes")} />
        </fieldset>
        {formError ? <Alert tone="error">{formError}</Alert> : null}
        <DialogActions submit="Create key" pendingLabel="Creating…" pending={pending} />
      </form>
    </DialogContent>
  );
}
