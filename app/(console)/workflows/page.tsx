import type { Metadata } from "next";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { CreateWorkflowForm } from "@/components/workflows/create-workflow-form";
import { WorkflowList } from "@/components/workflows/workflow-list";
import { getDb } from "@/db";
import { listWorkflows } from "@/lib/idv/workflows";
import { requireStaffPage } from "@/server/staff-session";
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
          <CreateWorkflowForm action={createWorkflowAction} />
        </CardBody>
      </Card>
    </>
  );
}
