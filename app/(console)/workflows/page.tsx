import type { Metadata } from "next";
import { ActionForm } from "@/components/staff/action-form";
import { WorkflowList } from "@/components/workflows/workflow-list";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/input";
import { getDb } from "@/db";
import { listWorkflows } from "@/lib/idv/workflows";
import { requireStaffPage } from "@/lib/next/session";
import { createWorkflowAction } from "./actions";

export const metadata: Metadata = { title: "Workflows" };

export default async function WorkflowsPage() {
  const actor = await requireStaffPage("workflows:manage");
  const workflows = await listWorkflows(await getDb(), actor);
  return (
    <>
      <PageHeader title="IDV workflows" description="The steps a person completes on their phone in a handoff. Backends pass the id as workflowId." />
      <Card className="mb-6">
        <CardBody>
          <WorkflowList workflows={workflows} />
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="New workflow" description="Steps: document (photo of an ID), selfie, form (full name, date of birth, email). Order matters." />
        <CardBody>
          <ActionForm action={createWorkflowAction} className="flex flex-wrap items-end gap-3" label="New workflow">
            {(pending) => (
              <>
                <Field label="Name" htmlFor="wf-name" className="min-w-64 flex-1">
                  <Input id="wf-name" name="name" required maxLength={100} placeholder="KYC: ID and selfie" />
                </Field>
                <Field label="Steps" htmlFor="wf-steps" hint="comma-separated, in order" className="min-w-64 flex-1">
                  <Input id="wf-steps" name="steps" required defaultValue="document,selfie,form" />
                </Field>
                <Button type="submit" disabled={pending}>
                  Create workflow
                </Button>
              </>
            )}
          </ActionForm>
        </CardBody>
      </Card>
    </>
  );
}
