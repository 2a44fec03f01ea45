import type { Metadata } from "next";
import { IssueHandoffForm } from "@/components/handoffs/issue-form";
import { HandoffPersonLabel } from "@/components/handoffs/person";
import { HandoffStatusBadge } from "@/components/handoffs/status-badge";
import { ActorLabel } from "@/components/ui/actor";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
import { KeysetPager } from "@/components/ui/keyset-pager";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { getDb } from "@/db";
import { config } from "@/lib/config/env";
import { isDomainError } from "@/lib/errors";
import { decodeHandoffCursor, listHandoffs, parseHandoffFilter, SESSION_STATUSES } from "@/lib/idv/console";
import { isLoopbackUrl } from "@/lib/idv/handoff";
import { listWorkflows } from "@/lib/idv/workflows";
import { can, visibleEnvironments } from "@/lib/staff/rbac";
import { requireStaffPage } from "@/server/staff-session";
import { issueHandoffAction } from "./actions";

export const metadata: Metadata = { title: "IDV handoffs" };

type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function HandoffsPage({ searchParams }: { searchParams: Search }) {
  const actor = await requireStaffPage("users:read");
  const raw = await searchParams;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === "string" && v) values[k] = v;
  const db = await getDb();
  const workflows = await listWorkflows(db, actor);
  const base = config().publicUrl;
  const mayIssue = can(actor.role, "users:issue_tokens");
  const environments = visibleEnvironments(actor.role);

  let list: React.ReactNode;
  try {
    const filter = parseHandoffFilter(values);
    const cursor = decodeHandoffCursor(values.cursor);
    const page = await listHandoffs(db, actor, filter, { cursor, limit: 25 });
    const params = new URLSearchParams(values);
    params.delete("cursor");
    params.delete("userId");
    list =
      page.handoffs.length === 0 ? (
        <EmptyState title={cursor ? "No more handoffs" : "No handoffs match"}>
          {mayIssue ? "Issue one above, or widen the filters." : "Widen the filters or clear them."}
        </EmptyState>
      ) : (
        <>
          <Table aria-label="Recent handoffs">
            <THead>
              <TR>
                <TH>Created</TH>
                <TH>Person</TH>
                <TH>Workflow</TH>
                <TH>Environment</TH>
                <TH>Status</TH>
                <TH>Issued by</TH>
              </TR>
            </THead>
            <TBody>
              {page.handoffs.map((h) => (
                <TR key={h.id} data-testid="handoff-row" data-session-id={h.id}>
                  <TD>
                    <Link className="text-indigo-700 hover:underline" href={`/handoffs/${h.id}`}>
                      <time dateTime={h.createdAt}>{h.createdAt.replace("T", " ").slice(0, 19)} UTC</time>
                    </Link>
                  </TD>
                  <TD>
                    <HandoffPersonLabel h={h} />
                  </TD>
                  <TD>{h.workflowName ?? h.workflowId}</TD>
                  <TD>{h.environment}</TD>
                  <TD>
                    <HandoffStatusBadge status={h.status} />
                  </TD>
                  <TD className="text-xs">
                    <ActorLabel actor={{ type: h.issuedByType, id: h.issuedById, ...h.issuedByName }} testId="handoff-issued-by" />
                  </TD>
                </TR>
              ))}
            </TBody>
          </Table>
          <KeysetPager path="/handoffs" params={params} nextCursor={page.nextCursor} onLaterPage={Boolean(cursor)} nextLabel="Older handoffs" />
        </>
      );
  } catch (err) {
    if (!isDomainError(err)) throw err;
    list = <Alert tone="error">{err.message}</Alert>;
  }

  return (
    <>
      <PageHeader
        title="IDV handoffs"
        description="Send a person to verify their identity on their phone: a QR code or link that works once, for a limited time."
      />
      {isLoopbackUrl(base) ? (
        <Alert tone="warning" title="Phones cannot reach this address" className="mb-6">
          PUBLIC_URL is {base}, a loopback address: a QR code scanned by a phone will not open. Set PUBLIC_URL to an address phones can reach (for example this
          machine&apos;s LAN address or a tunnel) and restart tokendesk.
        </Alert>
      ) : null}
      {mayIssue ? (
        <Card className="mb-6">
          <CardHeader title="Issue IDV handoff" description="The link carries a one-time token that can reach only its own verification session." />
          <CardBody>
            {workflows.length === 0 ? (
              <Alert tone="warning">No workflows yet. An admin can create one under Workflows.</Alert>
            ) : (
              <IssueHandoffForm
                action={issueHandoffAction}
                workflows={workflows.map((w) => ({ id: w.id, name: w.name }))}
                environments={environments}
                initialUserId={values.userId}
              />
            )}
          </CardBody>
        </Card>
      ) : null}
      <Card>
        <CardHeader title="Recent handoffs" />
        <CardBody className="border-b border-slate-200">
          <form method="get" className="flex flex-wrap items-end gap-3" aria-label="Filter handoffs">
            <label className="text-sm">
              <span className="mb-1 block font-medium text-slate-700">Status</span>
              <Select name="status" defaultValue={values.status ?? ""}>
                <option value="">Any</option>
                {SESSION_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {s.replace("_", " ")}
                  </option>
                ))}
              </Select>
            </label>
            <label className="text-sm">
              <span className="mb-1 block font-medium text-slate-700">Workflow</span>
              <Select name="workflowId" defaultValue={values.workflowId ?? ""}>
                <option value="">Any</option>
                {workflows.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </Select>
            </label>
            <label className="text-sm">
              <span className="mb-1 block font-medium text-slate-700">Environment</span>
              <Select name="environment" defaultValue={values.environment ?? ""}>
                <option value="">Any</option>
                {environments.map((e) => (
                  <option key={e} value={e}>
                    {e}
                  </option>
                ))}
              </Select>
            </label>
            <Button type="submit" variant="secondary">
              Filter
            </Button>
            {Object.keys(values).length ? (
              <Button asChild variant="ghost">
                <Link href="/handoffs">Clear</Link>
              </Button>
            ) : null}
          </form>
        </CardBody>
        <CardBody>{list}</CardBody>
      </Card>
    </>
  );
}
