import type { Metadata } from "next";
import { AuditFilters } from "@/components/audit/audit-filters";
import { AuditTable } from "@/components/audit/audit-table";
import { VerifyPanel } from "@/components/audit/verify-panel";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { KeysetPager } from "@/components/ui/keyset-pager";
import { getDb } from "@/db";
import { latestAnchorAs, searchAuditLog } from "@/lib/audit";
import { actorNames } from "@/lib/audit/names";
import { decodeCursor, parseAuditFilter } from "@/lib/audit/query";
import { isDomainError } from "@/lib/errors";
import { can } from "@/lib/staff/rbac";
import { requireStaffPage } from "@/server/staff-session";
import { verifyAuditAction } from "./actions";

export const metadata: Metadata = { title: "Audit log" };

type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function AuditPage({ searchParams }: { searchParams: Search }) {
  const actor = await requireStaffPage("audit:read");
  const raw = await searchParams;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === "string") values[k] = v;

  const latest = await latestAnchorAs(await getDb(), actor);
  let body: React.ReactNode;
  let exportQuery = "";
  try {
    const filter = parseAuditFilter(values);
    const cursor = decodeCursor(values.cursor);
    const db = await getDb();
    const page = await searchAuditLog(db, actor, filter, { cursor, limit: 50 });
    const names = await actorNames(
      db,
      page.events.map((e) => ({ type: e.actorType, id: e.actorId })),
    );
    const params = new URLSearchParams(values);
    params.delete("cursor");
    exportQuery = params.toString();
    body =
      page.events.length === 0 ? (
        <EmptyState title={cursor ? "No more events" : "No events match these filters"}>
          {Object.keys(values).length ? "Widen the filters or clear them." : "Events appear here as staff and integrations use tokendesk."}
        </EmptyState>
      ) : (
        <>
          <AuditTable events={page.events} names={names} />
          <KeysetPager path="/audit" params={params} nextCursor={page.nextCursor} onLaterPage={Boolean(cursor)} nextLabel="Older events" />
        </>
      );
  } catch (err) {
    if (!isDomainError(err)) throw err;
    body = <Alert tone="error">{err.message}</Alert>;
  }

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change tokendesk makes, who made it and why. Append-only and tamper-evident."
        actions={
          can(actor.role, "audit:export") ? (
            <>
              <Button asChild variant="secondary">
                <a href={`/audit/export?format=csv${exportQuery ? `&${exportQuery}` : ""}`}>Export CSV</a>
              </Button>
              <Button asChild variant="secondary">
                <a href={`/audit/export?format=ndjson${exportQuery ? `&${exportQuery}` : ""}`}>Export NDJSON</a>
              </Button>
            </>
          ) : null
        }
      />
      <Card className="mb-6">
        <CardHeader
          title="Integrity"
          description="Recomputes every event's HMAC and every seal; names the first altered, deleted or re-ordered event, and — given an anchor you kept — a cut tail."
        />
        <CardBody>
          <VerifyPanel action={verifyAuditAction} latest={latest ? { anchor: latest.anchor, sealedAt: latest.sealedAt.toISOString() } : null} />
        </CardBody>
      </Card>
      <Card>
        <CardBody className="border-b border-slate-200">
          <AuditFilters values={values} />
        </CardBody>
        <CardBody>{body}</CardBody>
      </Card>
    </>
  );
}
