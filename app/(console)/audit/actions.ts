"use server";
import { z } from "zod";
import { verifyAuditLogAs } from "@/lib/audit";
import { staffAction } from "@/server/actions";

export const verifyAuditAction = staffAction("audit:read", z.object({}), async (_input, { actor, db, meta }) => {
  const report = await verifyAuditLogAs(db, actor, meta);
  return {
    data: report,
    message: report.ok ? `The audit log is intact: ${report.eventsChecked} events and ${report.sealsChecked} seals checked.` : report.problem!.message,
  };
});
