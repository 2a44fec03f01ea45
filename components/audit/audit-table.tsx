import { Badge } from "@/components/ui/badge";
import { formatUtc } from "@/components/ui/format";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { AuditEventRow } from "@/db/schema";
import { AUDIT_ACTIONS, type AuditAction } from "@/lib/audit/actions";

const outcomeTone = { success: "good", failure: "bad", denied: "warn" } as const;

export function AuditTable({ events }: { events: AuditEventRow[] }) {
  return (
    <Table>
      <THead>
        <TR>
          <TH>Time (UTC)</TH>
          <TH>Action</TH>
          <TH>Actor</TH>
          <TH>Target</TH>
          <TH>Env</TH>
          <TH>Outcome</TH>
          <TH>Reason / details</TH>
        </TR>
      </THead>
      <TBody>
        {events.map((e) => (
          <TR key={e.id} data-testid="audit-row">
            <TD className="whitespace-nowrap font-mono text-xs">{formatUtc(e.occurredAt, { seconds: true })}</TD>
            <TD>
              <span className="font-medium">{AUDIT_ACTIONS[e.action as AuditAction] ?? e.action}</span>
              <span className="block font-mono text-xs text-slate-500">{e.action}</span>
            </TD>
            <TD>
              <span className="block max-w-48 truncate">{e.actorName ?? e.actorId ?? "—"}</span>
              <span className="block text-xs text-slate-500">{e.actorType}</span>
            </TD>
            <TD>
              {e.targetType ? (
                <>
                  <span className="block text-xs text-slate-500">{e.targetType}</span>
                  <span className="block max-w-48 truncate font-mono text-xs">{e.targetId}</span>
                </>
              ) : (
                "—"
              )}
            </TD>
            <TD>{e.environment ?? "—"}</TD>
            <TD>
              <Badge tone={outcomeTone[e.outcome]}>{e.outcome}</Badge>
            </TD>
            <TD className="max-w-md">
              {e.reason ? <p className="text-sm">“{e.reason}”</p> : null}
              {Object.keys(e.details).length ? (
                <p className="truncate font-mono text-xs text-slate-500" title={JSON.stringify(e.details)}>
                  {JSON.stringify(e.details)}
                </p>
              ) : null}
              {e.ip ? <p className="text-xs text-slate-500">IP {e.ip}</p> : null}
            </TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
