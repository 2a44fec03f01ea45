"use client";
import { useState } from "react";
import { ActionForm, type FormAction } from "@/components/staff/action-form";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/input";

export function CreateWorkflowForm({ action }: { action: FormAction }) {
  // Controlled, so a refused attempt keeps what the admin typed (React resets uncontrolled form fields after an action).
  const [name, setName] = useState("");
  const [steps, setSteps] = useState("document,selfie,form");
  return (
    <ActionForm action={action} className="flex flex-wrap items-end gap-3" label="New workflow">
      {(pending) => (
        <>
          <Field label="Name" htmlFor="wf-name" className="min-w-64 flex-1">
            <Input id="wf-name" name="name" required maxLength={100} placeholder="KYC: ID and selfie" value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Steps" htmlFor="wf-steps" hint="comma-separated, in order" className="min-w-64 flex-1">
            <Input id="wf-steps" name="steps" required value={steps} onChange={(e) => setSteps(e.target.value)} />
          </Field>
          <Button type="submit" disabled={pending}>
            Create workflow
          </Button>
        </>
      )}
    </ActionForm>
  );
}
