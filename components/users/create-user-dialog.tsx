"use client";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogActions, DialogContent } from "@/components/ui/dialog";
import { FreshDialog } from "@/components/ui/fresh-dialog";
import { Field, Input, Select } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ActionResult } from "@/server/actions";

type CreateAction = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;

const FIELDS = ["client_user_id", "environment", "region", "name", "email"] as const;

/**
 * Create a user as a backend would with POST /v2/user (issue 14, point 9): the client user id
 * your backend knows them by, their environment and region, optionally a name and an email. On
 * success the new user's page opens; a refusal keeps what was typed and says what is wrong at
 * each field.
 */
export function CreateUserDialog({ action, environments, regions }: { action: CreateAction; environments: string[]; regions: string[] }) {
  return (
    <FreshDialog trigger={<Button>Create user</Button>}>
      <CreateUserBody action={action} environments={environments} regions={regions} />
    </FreshDialog>
  );
}

function CreateUserBody({ action, environments, regions }: { action: CreateAction; environments: string[]; regions: string[] }) {
  const router = useRouter();
  const { state, formAction, pending, onSubmit, fieldError, formError } = useFormAction(action, FIELDS);
  const created = state?.ok ? state.data : null;
  useEffect(() => {
    if (created) router.push(`/users/${created}`);
  }, [created, router]);
  const invalid = (name: string) => (fieldError(name) ? true : undefined);

  return (
    <DialogContent title="Create a user" description="As your backend would with POST /v2/user: the user can then be given a sign-in token or an IDV handoff.">
      {created ? (
        <Alert tone="success">{state?.ok ? state.message : null} Opening their page…</Alert>
      ) : (
        <form action={formAction} onSubmit={onSubmit} className="space-y-4" aria-label="Create a user">
          <Field
            label="Client user id"
            htmlFor="new-user-client-id"
            hint="Your backend's id for this person; unique in the environment and region."
            error={fieldError("client_user_id")}
          >
            <Input
              id="new-user-client-id"
              name="client_user_id"
              required
              maxLength={256}
              autoFocus
              autoComplete="off"
              spellCheck={false}
              aria-invalid={invalid("client_user_id")}
            />
          </Field>
          <div className="grid grid-cols-2 gap-3">
            <Field label="Environment" htmlFor="new-user-env" error={fieldError("environment")}>
              <Select id="new-user-env" name="environment" defaultValue={environments[0]} aria-invalid={invalid("environment")} options={environments} />
            </Field>
            <Field label="Region" htmlFor="new-user-region" error={fieldError("region")}>
              <Select id="new-user-region" name="region" defaultValue={regions[0]} aria-invalid={invalid("region")} options={regions} />
            </Field>
          </div>
          <Field label="Name" htmlFor="new-user-name" hint="Optional." error={fieldError("name")}>
            <Input id="new-user-name" name="name" maxLength={200} autoComplete="off" aria-invalid={invalid("name")} />
          </Field>
          <Field label="Email" htmlFor="new-user-email" hint="Optional." error={fieldError("email")}>
            <Input id="new-user-email" name="email" type="email" maxLength={320} autoComplete="off" spellCheck={false} aria-invalid={invalid("email")} />
          </Field>
          {formError ? <Alert tone="error">{formError}</Alert> : null}
          <DialogActions submit="Create user" pendingLabel="Creating…" pending={pending} />
        </form>
      )}
    </DialogContent>
  );
}
