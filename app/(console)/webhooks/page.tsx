import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { CreateEndpointDialog } from "@/components/webhooks/create-endpoint-dialog";
import { EndpointStatus } from "@/components/webhooks/endpoint-status";
import { getDb } from "@/db";
import { can } from "@/lib/staff/rbac";
import { endpointDeliveryStats, listWebhookEndpoints } from "@/lib/webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES, WEBHOOK_EVENTS } from "@/lib/webhooks/events";
import { requireStaffPage } from "@/server/staff-session";
import { createEndpointAction } from "./actions";

export const metadata: Metadata = { title: "Webhooks" };

export default async function WebhooksPage() {
  const actor = await requireStaffPage("webhooks:read");
  const db = await getDb();
  const endpoints = await listWebhookEndpoints(db, actor);
  const stats = await endpointDeliveryStats(
    db,
    actor,
    endpoints.map((e) => e.id),
  );
  const mayManage = can(actor.role, "webhooks:manage");
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="tokendesk POSTs events (users, sessions, migrations, IDV, devices) to your backend, signed per Standard Webhooks, retrying for a day when it is down."
        actions={
          mayManage ? (
            <CreateEndpointDialog action={createEndpointAction} events={WEBHOOK_EVENT_TYPES.map((type) => ({ type, description: WEBHOOK_EVENTS[type] }))} />
          ) : null
        }
      />
      <Card>
        <CardHeader title={`${endpoints.length} endpoint${endpoints.length === 1 ? "" : "s"}`} description="Deliveries over the last 24 hours." />
        <CardBody>
          {endpoints.length ? (
            <Table aria-label="Webhook endpoints">
              <THead>
                <TR>
                  <TH>URL</TH>
                  <TH>Environment</TH>
                  <TH>Events</TH>
                  <TH>Status</TH>
                  <TH className="text-right">Delivered</TH>
                  <TH className="text-right">Failed</TH>
                  <TH className="text-right">Pending</TH>
                </TR>
              </THead>
              <TBody>
                {endpoints.map((e) => {
                  const s = stats.get(e.id) ?? { pending: 0, succeeded: 0, failed: 0 };
                  return (
                    <TR key={e.id}>
                      <TD>
                        <Link href={`/webhooks/${e.id}`} className="font-mono text-xs text-indigo-700 underline-offset-4 hover:underline">
                          {e.url}
                        </Link>
                        {e.description ? <p className="text-xs text-slate-500">{e.description}</p> : null}
                      </TD>
                      <TD>
                        <Badge tone={e.environment === "production" ? "info" : "neutral"}>{e.environment}</Badge>
                      </TD>
                      <TD className="text-xs">{e.eventTypes.length === WEBHOOK_EVENT_TYPES.length ? "all" : e.eventTypes.join(", ")}</TD>
                      <TD>
                        <EndpointStatus endpoint={e} />
                      </TD>
                      <TD className="text-right tabular-nums">{s.succeeded}</TD>
                      <TD className="text-right tabular-nums">{s.failed}</TD>
                      <TD className="text-right tabular-nums">{s.pending}</TD>
                    </TR>
                  );
                })}
              </TBody>
            </Table>
          ) : (
            <EmptyState title="No webhook endpoints yet">
              {mayManage ? "Add one for each backend that should hear about users, sessions, migrations, IDV and devices." : "An admin can add one."}
            </EmptyState>
          )}
        </CardBody>
      </Card>
    </>
  );
}
