"use client";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { durationInWords, formatUtc } from "@/components/ui/format";
import { Field, Input } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ActionResult } from "@/server/actions";
import { SETTING_HINTS, SETTING_LABELS, type SettingField } from "./labels";

type Action = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;

export interface EnvironmentSettingsValues {
  environment: "sandbox" | "production";
  signInTokenTtlSeconds: number;
  accessTokenTtlSeconds: number;
  refreshAbsoluteTtlSeconds: number;
  refreshGraceSeconds: number;
}

const FIELDS = Object.keys(SETTING_LABELS) as SettingField[];

/**
 * One environment's lifetimes, in seconds with their length in words beside them. There are no
 * min/max attributes on purpose: the server's rule is the one rule, and its sentence is shown.
 */
export function SettingsForm({ values, action, updatedAt }: { values: EnvironmentSettingsValues; action: Action; updatedAt: Date | null }) {
  const { state, formAction, pending, onSubmit } = useFormAction(action);
  const [draft, setDraft] = useState<Record<SettingField, string>>(
    () => Object.fromEntries(FIELDS.map((f) => [f, String(values[f])])) as Record<SettingField, string>,
  );
  const env = values.environment;
  return (
    <form action={formAction} onSubmit={onSubmit} className="space-y-4" aria-label={`${env} lifetimes`} noValidate>
      <input type="hidden" name="environment" value={env} />
      <div className="grid gap-4 md:grid-cols-2">
        {FIELDS.map((f) => {
          const invalid = state && !state.ok && state.field === f;
          const n = Number(draft[f]);
          const words = draft[f].trim() !== "" && Number.isInteger(n) ? durationInWords(n) : "";
          return (
            <Field key={f} label={`${SETTING_LABELS[f]} (seconds)`} htmlFor={`${env}-${f}`} hint={SETTING_HINTS[f]} error={invalid ? state.error : null}>
              <div className="flex items-center gap-3">
                <Input
                  id={`${env}-${f}`}
                  name={f}
                  type="number"
                  inputMode="numeric"
                  step={1}
                  className="w-36"
                  value={draft[f]}
                  onChange={(e) => setDraft((d) => ({ ...d, [f]: e.target.value }))}
                  aria-invalid={invalid ? true : undefined}
                  aria-describedby={`${env}-${f}-words`}
                />
                <span id={`${env}-${f}-words`} className="text-sm text-slate-600" data-testid={`${env}-${f}-words`}>
                  {words ? `= ${words}` : ""}
                </span>
              </div>
            </Field>
          );
        })}
      </div>
      <div aria-live="polite">
        {state ? (
          state.ok ? (
            <Alert tone="success">{state.message}</Alert>
          ) : state.field && FIELDS.includes(state.field as SettingField) ? null : (
            <Alert tone="error">{state.error}</Alert>
          )
        ) : null}
      </div>
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={pending}>
          {pending ? "Saving…" : `Save ${env} lifetimes`}
        </Button>
        <span className="text-xs text-slate-500">{updatedAt ? `Last changed ${formatUtc(updatedAt)}` : "Defaults, never changed"}</span>
      </div>
    </form>
  );
}
