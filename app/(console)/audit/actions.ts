"use server";
import { z } from "zod";
import { verifyAuditLogAs } from "@/lib/audit";
import { formatAnchor, parseAnchorText } from "@/lib/audit/anchor";
import { DomainError } from "@/lib/errors";
import { staffAction } from "@/server/actions";

export const verifyAuditAction = staffAction("audit:read", z.object({ anchor: z.string().max(2000).optional() }), async (input, { actor, db, meta }) => {
  const text = input.anchor?.trim() ?? "";
  const anchor = text ? parseAnchorText(text) : null;
  if (text && !anchor)
    throw new DomainError("validation_failed", "That is not an anchor: paste what `tokendesk audit anchor` printed (seal number:digest), or a digest.", {
      field: "anchor",
    });
  const report = await verifyAuditLogAs(db, actor, meta, { anchor });
  const reached = anchor
    ? ` It still reaches the anchor ${anchor.seq === null ? anchor.digest : formatAnchor({ seq: anchor.seq, digest: anchor.digest })}.`
    : "";
  return {
    data: { ok: report.ok, latest: report.latest ? { anchor: formatAnchor(report.latest), sealedAt: report.latest.sealedAt.toISOString() } : null },
    message: report.ok
      ? `The audit log is intact: ${report.eventsChecked} events and ${report.sealsChecked} seals checked.${reached}`
      : report.problem!.message,
  };
});
