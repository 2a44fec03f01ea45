import { z } from "zod";
import { getDb } from "@/db";
import { isDomainError } from "@/lib/errors";
import { exportMigrationEvents } from "@/lib/migrations/events";
import { resolvePeriod } from "@/lib/migrations/report";
import { requestMetaFrom } from "@/lib/next/request-meta";
import { currentStaff } from "@/lib/next/session";
import { can } from "@/lib/staff/rbac";

export const dynamic = "force-dynamic";

const query = z.object({
  format: z.enum(["csv", "ndjson"], "must be csv or ndjson").default("csv"),
  from: z.coerce.date("must be a date").optional(),
  to: z.coerce.date("must be a date").optional(),
  apiKeyId: z.uuid("must be an API key id").optional(),
  outcome: z.enum(["completed", "rejected"], "must be completed or rejected").optional(),
});

/** GET /migrations/export?format=csv|ndjson&from&to&apiKeyId&outcome — the report's events, streamed. */
export async function GET(req: Request) {
  const actor = await currentStaff();
  if (!actor) return Response.json({ error: { code: "unauthorized", message: "Sign in to export migration events." } }, { status: 401 });
  if (!can(actor.role, "migrations:read")) {
    return Response.json({ error: { code: "forbidden", message: "Your role may not read the migration report." } }, { status: 403 });
  }
  const raw = Object.fromEntries([...new URL(req.url).searchParams].filter(([, v]) => v !== ""));
  const parsed = query.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return Response.json({ error: { code: "validation_failed", message: `${String(issue.path[0])} ${issue.message}.` } }, { status: 422 });
  }
  try {
    const period = resolvePeriod(parsed.data);
    const stream = await exportMigrationEvents(
      await getDb(),
      actor,
      { ...period, apiKeyId: parsed.data.apiKeyId, outcome: parsed.data.outcome },
      parsed.data.format,
      requestMetaFrom(req.headers),
    );
    return new Response(stream, {
      headers: {
        "Content-Type": parsed.data.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "Content-Disposition": `attachment; filename="tokendesk-migrations-${period.from.toISOString().slice(0, 10)}-${period.to.toISOString().slice(0, 10)}.${parsed.data.format}"`,
        "Cache-Control": "no-store",
      },
    });
  } catch (err) {
    if (isDomainError(err)) return Response.json({ error: { code: err.code, message: err.message } }, { status: err.status === 400 ? 422 : err.status });
    throw err;
  }
}
