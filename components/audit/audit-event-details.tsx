"use client";
import * as DialogPrimitive from "@radix-ui/react-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { formatUtc } from "@/components/ui/format";
import { Link } from "@/components/ui/link";
import { detailLines, TARGET_LABELS, targetHref } from "./describe";

/** An audit event as the browser receives it (dates as ISO strings). */
export interface AuditEventJson {
  id: string;
  occurredAt: string;
  action: string;
  actionLabel: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  /** The staff member's or key's name when known (lib/audit/names.ts). */
  actorDisplay: string | null;
  targetType: string | null;
  targetId: string | null;
  environment: string | null;
  outcome: "success" | "failure" | "denied";
  reason: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[8rem_minmax(0,1fr)] gap-2 py-1.5">
      <dt className="text-sm text-slate-600">{label}</dt>
      <dd className="min-w-0 break-words text-sm text-slate-900">{children}</dd>
    </div>
  );
}

/**
 * "Details" of one audit event: a drawer from the right with every field in words, the details as
 * labelled lines with ids linked to their pages, and the target linked. Focus moves into it and
 * back to its button; Escape closes it.
 */
export function AuditEventDetails({ event }: { event: AuditEventJson }) {
  const target = targetHref(event.targetType, event.targetId, event.details);
  const lines = detailLines(event.details);
  return (
    <DialogPrimitive.Root>
      <DialogPrimitive.Trigger asChild>
        <Button variant="ghost" size="sm" aria-label={`Details of ${event.actionLabel} at ${formatUtc(event.occurredAt, { seconds: true })}`}>
          Details
        </Button>
      </DialogPrimitive.Trigger>
      <DialogPrimitive.Portal>
        <DialogPrimitive.Overlay className="fixed inset-0 z-40 bg-slate-900/40 dark:bg-black/60" />
        <DialogPrimitive.Content
          className="fixed inset-y-0 right-0 z-50 flex w-[min(34rem,100vw)] flex-col overflow-y-auto bg-white p-6 shadow-xl focus:outline-none"
          data-testid="audit-drawer"
        >
          <div className="flex items-start justify-between gap-3">
            <div>
              <DialogPrimitive.Title className="text-lg font-semibold text-slate-900">{event.actionLabel}</DialogPrimitive.Title>
              <DialogPrimitive.Description className="mt-0.5 text-sm text-slate-600">
                {formatUtc(event.occurredAt, { seconds: true })} · <code className="font-mono text-xs">{event.action}</code>
              </DialogPrimitive.Description>
            </div>
            <DialogPrimitive.Close asChild>
              <Button variant="secondary" size="sm">
                Close
              </Button>
            </DialogPrimitive.Close>
          </div>
          <dl className="mt-4 divide-y divide-slate-100">
            <Row label="Outcome">
              <Badge tone={event.outcome === "success" ? "good" : event.outcome === "denied" ? "warn" : "bad"}>{event.outcome}</Badge>
            </Row>
            <Row label="Actor">
              <span className="block">{event.actorDisplay ?? event.actorName ?? event.actorId ?? "—"}</span>
              <span className="block text-xs text-slate-600">
                {event.actorType}
                {event.actorDisplay && event.actorName ? ` · ${event.actorName}` : ""}
              </span>
              {event.actorId ? <code className="block break-all font-mono text-xs text-slate-600">{event.actorId}</code> : null}
            </Row>
            <Row label="Target">
              {event.targetType ? (
                <>
                  <span className="block">{TARGET_LABELS[event.targetType] ?? event.targetType}</span>
                  {target ? (
                    <Link href={target} className="block break-all font-mono text-xs text-indigo-700 underline">
                      {event.targetId}
                    </Link>
                  ) : (
                    <code className="block break-all font-mono text-xs">{event.targetId}</code>
                  )}
                </>
              ) : (
                "—"
              )}
            </Row>
            <Row label="Environment">{event.environment ?? "—"}</Row>
            <Row label="Reason">{event.reason ? `“${event.reason}”` : "—"}</Row>
            {lines.map((l) => (
              <Row key={l.key} label={l.label}>
                {l.href ? (
                  <Link href={l.href} className={`text-indigo-700 underline ${l.mono ? "break-all font-mono text-xs" : ""}`}>
                    {l.text}
                  </Link>
                ) : (
                  <span className={l.mono ? "break-all font-mono text-xs" : undefined}>{l.text}</span>
                )}
              </Row>
            ))}
            <Row label="IP address">{event.ip ?? "—"}</Row>
            <Row label="User agent">{event.userAgent ?? "—"}</Row>
            <Row label="Request id">{event.requestId ? <code className="break-all font-mono text-xs">{event.requestId}</code> : "—"}</Row>
            <Row label="Event id">
              <code className="break-all font-mono text-xs">{event.id}</code>
            </Row>
          </dl>
        </DialogPrimitive.Content>
      </DialogPrimitive.Portal>
    </DialogPrimitive.Root>
  );
}
