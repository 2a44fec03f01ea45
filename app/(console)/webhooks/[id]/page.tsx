import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { KeysetPager } from "@/components/ui/keyset-pager";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { EndpointActions, ReplayButton } from "@/components/webhooks/endpoint-actions";
import { EndpointStatus } from "@/components/webhooks/endpoint-status";
import { getDb } from "@/db";
import { isDomainError } from "@/lib/errors";
import { can } from "@/lib/staff/rbac";
import { type DeliveryView, listDeliveries } from "@/lib/webhooks/deliveries";
import { getWebhookEndpoint, type WebhookEndpointView } from "@/lib/webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES } from "@/lib/webhooks/events";
import { requireStaffPage } from "@/server/staff-session";
import { deleteEndpointAction, replayDeliveryAction, rotateSecretAction, sendTestEventAction, setEndpointEnabledAction } from "../actions";

export const metadata: Metadata = { title: "Webhook endpoint" };

const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 19).replace("T", " ")} UTC` : "—");

function DeliveryStatus({ d }: { d: DeliveryView }) {
  if (d.status === "succeeded") return <Badge tone="good">delivered</Badge>;
  if (d.status === "failed") return <Badge tone="bad">failed</Badge>;
  return <Badge tone={d.attempts > 0 ? "warn" : "neutral"}>{d.attempts > 0 ? "retrying" : "pending"}</Badge>;
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export default async function WebhookEndpointPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ cursor?: string }> }) {
  const actor = await requireStaffPage("webhooks:read");
  const { id } = await params;
  const { cursor } = await searchParams;
  const db = await getDb();
  let endpoint: WebhookEndpointView;
  try {
    endpoint = await getWebhookEndpoint(db, actor, id);
  } catch (err) {
    if (isDomainError(err) && err.status === 404) notFound();
    throw err;
  }
  const page = await listDeliveries(db, actor, endpoint.id, { cursor });
  const mayManage = can(actor.role, "webhooks:manage");
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/webhooks" className="text-indigo-700 underline-offset-4 hover:underline">
          ← Webhooks
        </Link>
      </p>
      <PageHeader
        title={endpoint.url}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <EndpointStatus endpoint={endpoint} />
            <Badge tone={endpoint.environment === "production" ? "info" : "neutral"}>{endpoint.environment}</Badge>
            {endpoint.description ? <span>{endpoint.description}</span> : null}
          </span>
        }
      />
      {mayManage ? (
        <Card className="mb-6">
          <CardHeader title="Actions" description="Every change is recorded in the audit log." />
          <CardBody>
            <EndpointActions
              endpoint={endpoint}
              sendTest={sendTestEventAction}
              setEnabled={setEndpointEnabledAction}
              rotate={rotateSecretAction}
              remove={deleteEndpointAction}
            />
          </CardBody>
        </Card>
      ) : null}
      <Card className="mb-6">
        <CardHeader title="Endpoint" />
        <CardBody>
          <dl className="grid grid-cols-[10rem_1fr] gap-x-4 gap-y-2 text-sm">
            <dt className="text-slate-500">Endpoint id</dt>
            <dd className="font-mono text-xs">{endpoint.id}</dd>
            <dt className="text-slate-500">Events</dt>
            <dd>{endpoint.eventTypes.length === WEBHOOK_EVENT_TYPES.length ? "all" : endpoint.eventTypes.join(", ")}</dd>
            <dt className="text-slate-500">Created</dt>
            <dd>{when(endpoint.createdAt)}</dd>
            <dt className="text-slate-500">Last delivered</dt>
            <dd>{when(endpoint.lastSuccessAt)}</dd>
            <dt className="text-slate-500">Signing secret</dt>
            <dd>
              {endpoint.previousSecretExpiresAt
                ? `Rotated; the previous secret also signs until ${when(endpoint.previousSecretExpiresAt)}.`
                : "Shown once at creation or rotation; stored encrypted."}
            </dd>
          </dl>
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="Recent deliveries" description="Newest first. A retry keeps the same webhook-id; receivers de-duplicate by it." />
        <CardBody>
          {page.deliveries.length ? (
            <Table aria-label="Deliveries">
              <THead>
                <TR>
                  <TH>Event</TH>
                  <TH>Status</TH>
                  <TH className="text-right">Attempts</TH>
                  <TH>Response</TH>
                  <TH>Last attempt</TH>
                  <TH>Payload</TH>
                  {mayManage ? (
                    <TH>
                      <span className="sr-only">Replay</span>
                    </TH>
                  ) : null}
                </TR>
              </THead>
              <TBody>
                {page.deliveries.map((d) => (
                  <TR key={d.id} data-testid="delivery-row">
                    <TD>
                      <code className="font-mono text-xs">{d.eventType}</code>
                      <p className="font-mono text-[11px] text-slate-500">{d.messageId}</p>
                      <p className="text-xs text-slate-500">{when(d.createdAt)}</p>
                    </TD>
                    <TD>
                      <DeliveryStatus d={d} />
                      {d.nextAttemptAt && d.attempts > 0 ? <p className="text-xs text-slate-500">next {when(d.nextAttemptAt)}</p> : null}
                    </TD>
                    <TD className="text-right tabular-nums">{d.attempts}</TD>
                    <TD>
                      {d.lastResponseStatus !== null ? <span className="tabular-nums">HTTP {d.lastResponseStatus}</span> : d.attempts > 0 ? "no response" : "—"}
                      {d.lastError ? <p className="max-w-xs text-xs text-red-700">{d.lastError}</p> : null}
                    </TD>
                    <TD className="text-xs">
                      {when(d.lastAttemptAt)}
                      {d.lastDurationMs !== null ? <p className="text-slate-500">{d.lastDurationMs} ms</p> : null}
                    </TD>
                    <TD>
                      <details>
                        <summary className="cursor-pointer text-xs text-indigo-700">Show payload</summary>
                        <pre className="mt-1 max-w-md overflow-x-auto rounded bg-slate-50 p-2 text-[11px]">{pretty(d.body)}</pre>
                      </details>
                    </TD>
                    {mayManage ? <TD>{d.status === "pending" ? null : <ReplayButton deliveryId={d.id} action={replayDeliveryAction} />}</TD> : null}
                  </TR>
                ))}
              </TBody>
            </Table>
          ) : (
            <EmptyState title="No deliveries yet">
              {mayManage ? "Send a test event, or wait for one of the subscribed events." : "Nothing has been sent to this endpoint yet."}
            </EmptyState>
          )}
          <KeysetPager
            path={`/webhooks/${endpoint.id}`}
            params={new URLSearchParams()}
            nextCursor={page.nextCursor}
            onLaterPage={Boolean(cursor)}
            nextLabel="Older deliveries"
          />
        </CardBody>
      </Card>
    </>
  );
}
