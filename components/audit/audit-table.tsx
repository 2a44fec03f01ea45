import { Badge } from "@/components/ui/badge";
import { formatUtc } from "@/components/ui/format";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { AuditEventRow } from "@/db/schema";
import { AUDIT_ACTIONS, type AuditAction } from "@/lib/audit/actions";
import type { ActorName } from "@/lib/audit/names";
import { AuditEventDetails, type AuditEventJson } from "./audit-event-details";
import { actionTone, TARGET_LABELS, TONE_DOT, targetHref } from "./describe";

const outcomeTone = { success: "good", failure: "bad", denied: "warn" } as const;

export function auditEventJson(e: AuditEventRow, names?: Map<string, ActorName>): AuditEventJson {
  return {
    id: e.id,
    occurredAt: e.occurredAt.toISOString(),
    action: e.action,
    actionLabel: AUDIT_ACTIONS[e.action as AuditAction] ?? e.action,
    actorType: e.actorType,
    actorId: e.actorId,
    actorName: e.actorName,
    actorDisplay: names?.get(`${e.actorType}:${e.actorId}`)?.name ?? null,
    targetType: e.targetType,
    targetId: e.targetId,
    environment: e.environment,
    outcome: e.outcome,
    reason: e.reason,
    requestId: e.requestId,
    ip: e.ip,
    userAgent: e.userAgent,
    details: e.details,
  };
}

/**
 * The audit log as a table that fits a 1024 px screen: when, what (with a tone), who, on what,
 * why; everything else — details in words, IP, user agent, request id — in each row's drawer.
 * `names` (lib/audit/names.ts) turns staff and key ids into names.
 */
export function AuditTable({ events, names }: { events: AuditEventRow[]; names?: Map<string, ActorName> }) {
  return (
    <Table className="table-fixed">
      <colgroup>
        <col className="w-[8.5rem]" />
        <col />
        <col className="w-[22%]" />
        <col className="w-[18%]" />
        <col className="w-[22%]" />
        <col className="w-[5.5rem]" />
      </colgroup>
      <THead>
        <TR>
          <TH>Time (UTC)</TH>
          <TH>Event</TH>
          <TH>Actor</TH>
          <TH>Target</TH>
          <TH>Reason</TH>
          <TH>
            <span className="sr-only">Details</span>
          </TH>
        </TR>
      </THead>
      <TBody>
        {events.map((e) => {
          const json = auditEventJson(e, names);
          const named = names?.get(`${e.actorType}:${e.actorId}`);
          const href = targetHref(e.targetType, e.targetId, e.details);
          return (
            <TR key={e.id} data-testid="audit-row" data-action={e.action}>
              <TD className="font-mono text-xs">
                <time dateTime={json.occurredAt}>{formatUtc(e.occurredAt, { seconds: true }).replace(" UTC", "")}</time>
                {e.environment ? <span className="mt-0.5 block font-sans text-slate-600">{e.environment}</span> : null}
              </TD>
              <TD className="break-words">
                <span className="flex items-start gap-2">
                  <span aria-hidden className={`mt-1.5 size-2 shrink-0 rounded-full ${TONE_DOT[actionTone(e.action, e.outcome)]}`} />
                  <span className="min-w-0">
                    <span className="font-medium">{json.actionLabel}</span>
                    {e.outcome !== "success" ? (
                      <Badge tone={outcomeTone[e.outcome]} className="ml-1">
                        {e.outcome}
                      </Badge>
                    ) : null}
                    <span className="block truncate font-mono text-xs text-slate-600" title={e.action}>
                      {e.action}
                    </span>
                  </span>
                </span>
              </TD>
              <TD>
                <span className="block truncate" title={e.actorId ?? undefined}>
                  {named?.name ?? e.actorName ?? e.actorId ?? "—"}
                </span>
                <span className="block truncate text-xs text-slate-600" title={named?.detail ?? undefined}>
                  {named?.detail ?? e.actorType}
                </span>
              </TD>
              <TD>
                {e.targetType ? (
                  <>
                    <span className="block truncate text-xs text-slate-600">{TARGET_LABELS[e.targetType] ?? e.targetType}</span>
                    {href ? (
                      <Link href={href} className="block truncate font-mono text-xs text-indigo-700 hover:underline" title={e.targetId ?? undefined}>
                        {e.targetId}
                      </Link>
                    ) : (
                      <span className="block truncate font-mono text-xs" title={e.targetId ?? undefined}>
                        {e.targetId}
                      </span>
                    )}
                  </>
                ) : (
                  "—"
                )}
              </TD>
              <TD className="break-words text-sm">
                {e.reason ? <span className="line-clamp-3">“{e.reason}”</span> : <span className="text-slate-600">—</span>}
              </TD>
              <TD className="text-right">
                <AuditEventDetails event={json} />
              </TD>
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}
