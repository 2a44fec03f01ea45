import { getDb } from "@/db";
import { exportAuditLog } from "@/lib/audit";
import { parseAuditFilter } from "@/lib/audit/query";
import { isDomainError } from "@/lib/errors";
import { requestMetaFrom } from "@/lib/next/request-meta";
import { currentStaff } from "@/lib/next/session";
import { can } from "@/lib/staff/rbac";

export const dynamic = "force-dynamic";

/** GET /audit/export?format=csv|ndjson&<filters>: the filtered log, streamed. */
export async function GET(req: Request) {
  const actor = await currentStaff();
  if (!actor) return Response.json({ error: { code: "unauthorized", message: "Sign in to export the audit log." } }, { status: 401 });
  if (!can(actor.role, "audit:export")) {
    return Response.json({ error: { code: "forbidden", message: "Your role may not export the audit log." } }, { status: 403 });
  }
  const url = new URL(req.url);
  const format = url.searchParams.get("format") ?? "csv";
  if (format !== "csv" && format !== "ndjson") {
    return Response.json({ error: { code: "validation_failed", message: "format must be csv or ndjson." } }, { status: 422 });
  }
  url.searchParams.delete("format");
  url.searchParams.delete("cursor");
  try {
    const filter = parseAuditFilter(url.searchParams);
    const stream = await exportAuditLog(await getDb(), actor, filter, format, requestMetaFrom(req.headers));
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return new Response(stream, {
      headers: {
        "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "Content-Disposition": `attachment; filename="tokendesk-audit-${stamp}.${format === "csv" ? "csv" : "ndjson"}"`,
        "Cache-Control": "no-store",
      },
    });
  } catch (err) {
    if (isDomainError(err)) return Response.json({ error: { code: err.code, message: err.message } }, { status: err.status === 400 ? 422 : err.status });
    throw err;
  }
}
