import type { Metadata } from "next";
import Link from "next/link";
import { AuditTable } from "@/components/audit/audit-table";
import { NAV_ITEMS } from "@/components/shell/navigation";
import { EmptyState } from "@/components/ui/alert";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { databaseHandle } from "@/db";
import { appliedSchemaVersion } from "@/db/client";
import { searchAuditLog } from "@/lib/audit";
import { config } from "@/lib/config/env";
import { can, ROLE_DESCRIPTIONS, ROLE_LABELS } from "@/lib/staff/rbac";
import { requireStaffPage } from "@/server/staff-session";

export const metadata: Metadata = { title: "Overview" };

export default async function OverviewPage() {
  const actor = await requireStaffPage();
  const handle = await databaseHandle();
  const recent = can(actor.role, "audit:read") ? await searchAuditLog(handle.db, actor, {}, { limit: 10 }) : null;
  const links = NAV_ITEMS.filter((i) => i.href !== "/" && can(actor.role, i.permission));
  return (
    <>
      <PageHeader title={`Hello, ${actor.displayName}`} description={`${ROLE_LABELS[actor.role]}: ${ROLE_DESCRIPTIONS[actor.role]}`} />
      <div className="mb-6 grid gap-4 md:grid-cols-3">
        <Card>
          <CardBody>
            <p className="text-xs uppercase tracking-wide text-slate-500">Database</p>
            <p className="mt-1 text-lg font-semibold">{handle.kind === "pglite" ? "Embedded (PGlite)" : "PostgreSQL"}</p>
            <p className="text-sm text-slate-600">Schema version {await appliedSchemaVersion(handle.db)}</p>
          </CardBody>
        </Card>
        <Card>
          <CardBody>
            <p className="text-xs uppercase tracking-wide text-slate-500">Public URL</p>
            <p className="mt-1 truncate text-lg font-semibold">{config().publicUrl}</p>
            <p className="text-sm text-slate-600">Where SDKs, backends and phones reach tokendesk</p>
          </CardBody>
        </Card>
        <Card>
          <CardBody>
            <p className="text-xs uppercase tracking-wide text-slate-500">Your pages</p>
            <ul className="mt-1 columns-2 gap-4 space-y-0.5 text-sm">
              {links.length ? (
                links.map((l) => (
                  <li key={l.href}>
                    <Link className="text-indigo-700 hover:underline" href={l.href}>
                      {l.label}
                    </Link>
                  </li>
                ))
              ) : (
                <li className="text-slate-600">More pages arrive as tokendesk grows.</li>
              )}
            </ul>
          </CardBody>
        </Card>
      </div>
      {recent ? (
        <Card>
          <CardHeader
            title="Recent activity"
            actions={
              <Link className="text-sm text-indigo-700 hover:underline" href="/audit">
                Open the audit log
              </Link>
            }
          />
          <CardBody>{recent.events.length ? <AuditTable events={recent.events} /> : <EmptyState title="Nothing has happened yet" />}</CardBody>
        </Card>
      ) : null}
    </>
  );
}
