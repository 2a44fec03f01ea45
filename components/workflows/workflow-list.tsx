import { EmptyState } from "@/components/ui/alert";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { WorkflowView } from "@/lib/idv/workflows";

export function WorkflowList({ workflows }: { workflows: WorkflowView[] }) {
  if (workflows.length === 0) return <EmptyState title="No workflows yet">Create one below, or with `tokendesk workflows create`.</EmptyState>;
  return (
    <Table aria-label="Workflows">
      <THead>
        <TR>
          <TH>Name</TH>
          <TH>Id (workflowId)</TH>
          <TH>Steps, in order</TH>
        </TR>
      </THead>
      <TBody>
        {workflows.map((w) => (
          <TR key={w.id} data-testid="workflow-row">
            <TD className="font-medium">{w.name}</TD>
            <TD className="font-mono text-xs">{w.id}</TD>
            <TD>
              <ol className="flex flex-wrap gap-1">
                {w.steps.map((s, i) => (
                  <li key={s.id} className="rounded bg-slate-100 px-2 py-0.5 text-xs">
                    {i + 1}. {s.label}
                    {s.fields ? ` (${s.fields.map((f) => f.label).join(", ")})` : ""}
                  </li>
                ))}
              </ol>
            </TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
