import type { Metadata } from "next";
import { CancelHandoffForm } from "@/components/handoffs/cancel-form";
import { HandoffLive } from "@/components/handoffs/handoff-live";
import { HandoffPersonLabel, personText } from "@/components/handoffs/person";
import { HandoffStatusBadge } from "@/components/handoffs/status-badge";
import { ActorLabel } from "@/components/ui/actor";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { Link } from "@/components/ui/link";
import { getDb } from "@/db";
import { config } from "@/lib/config/env";
import { getHandoff, type HandoffDetail } from "@/lib/idv/console";
import { currentHandoffLink } from "@/lib/idv/handoff";
import { qrSvg } from "@/lib/qr";
import { can } from "@/lib/staff/rbac";
import { loadForPage, requireStaffPage } from "@/server/staff-session";
import { cancelHandoffAction } from "../actions";

export const metadata: Metadata = { title: "IDV handoff" };

const when = (iso: string | null) => (iso ? `${iso.replace("T", " ").slice(0, 19)} UTC` : "—");

export default async function HandoffPage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requireStaffPage("users:read");
  const { id } = await params;
  const db = await getDb();
  const h: HandoffDetail = await loadForPage(getHandoff(db, actor, id));
  const active = h.status === "created" || h.status === "in_progress";
  const mayIssue = can(actor.role, "users:issue_tokens", h.environment);
  const link = active && mayIssue ? await currentHandoffLink(db, actor, config().publicUrl, h.id) : null;

  return (
    <>
      <PageHeader
        title={`Handoff for ${personText(h)}`}
        description={
          <>
            {h.workflowName ?? h.workflowId} · {h.environment} / {h.region} · created {when(h.createdAt)}
          </>
        }
        actions={
          <Button asChild variant="secondary">
            <Link href="/handoffs">All handoffs</Link>
          </Button>
        }
      />
      {h.status === "cancelled" ? (
        <Alert tone="warning" className="mb-6">
          This handoff was cancelled: its link no longer works. Issue a new one if the person still needs to verify.
        </Alert>
      ) : h.status === "expired" ? (
        <Alert tone="info" className="mb-6">
          This handoff expired before it was submitted: its link no longer works.
        </Alert>
      ) : null}
      {link ? (
        <Card className="mb-6">
          <CardHeader title="Live handoff" description="Status updates by itself; no need to reload." />
          <CardBody>
            <HandoffLive
              handoff={{ sessionId: h.id, url: link.url, shortUrl: link.shortUrl, qrSvg: await qrSvg(link.shortUrl), expiresAt: h.expiresAt, status: h.status }}
            />
          </CardBody>
        </Card>
      ) : null}
      <Card className="mb-6">
        <CardHeader title="Session" />
        <CardBody>
          <dl className="grid gap-x-8 gap-y-3 text-sm sm:grid-cols-2">
            <div>
              <dt className="text-slate-500">Status</dt>
              <dd>
                <HandoffStatusBadge status={h.status} data-testid="detail-status" />
              </dd>
            </div>
            <div>
              <dt className="text-slate-500">Person</dt>
              <dd>
                <HandoffPersonLabel h={h} />
              </dd>
            </div>
            <div>
              <dt className="text-slate-500">Session id</dt>
              <dd className="font-mono text-xs">{h.id}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Expires</dt>
              <dd>{when(h.expiresAt)}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Submitted</dt>
              <dd>{when(h.submittedAt)}</dd>
            </div>
            <div>
              <dt className="text-slate-500">Issued by</dt>
              <dd>
                <ActorLabel actor={{ type: h.issuedByType, id: h.issuedById, ...h.issuedByName }} showId testId="detail-issued-by" />
              </dd>
            </div>
            <div>
              <dt className="text-slate-500">Reason</dt>
              <dd>{h.reason ?? "—"}</dd>
            </div>
            <div className="sm:col-span-2">
              <dt className="text-slate-500">Metadata</dt>
              <dd>
                <pre className="mt-1 whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs [overflow-wrap:anywhere]">{JSON.stringify(h.metadata, null, 2)}</pre>
              </dd>
            </div>
          </dl>
          {active && mayIssue ? <CancelHandoffForm action={cancelHandoffAction} sessionId={h.id} /> : null}
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="Captured" description="What the person submitted, step by step. Images are shown only to signed-in staff." />
        <CardBody>
          <ol className="space-y-6" data-testid="captured-steps">
            {h.steps.map((s, i) => (
              <li key={s.id} data-testid="captured-step" data-step={s.id}>
                <p className="font-medium text-slate-900">
                  {i + 1}. {s.label}{" "}
                  <span className={`ml-2 text-xs ${s.completed ? "text-emerald-700" : "text-slate-500"}`}>
                    {s.completed ? `captured ${when(s.submittedAt)}` : "not captured"}
                  </span>
                </p>
                {s.image ? (
                  <figure className="mt-2">
                    {/* eslint-disable-next-line @next/next/no-img-element */}
                    <img
                      src={`/api/console/handoffs/${h.id}/images/${encodeURIComponent(s.id)}`}
                      alt={`${s.label} as captured`}
                      className="max-h-72 rounded border border-slate-200 bg-slate-50 object-contain"
                    />
                    <figcaption className="mt-1 text-xs text-slate-500">
                      {s.image.contentType}, {(s.image.size / 1024).toFixed(1)} KiB
                    </figcaption>
                  </figure>
                ) : null}
                {s.fields ? (
                  <dl className="mt-2 grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[12rem_1fr]">
                    {s.fields.map((f) => (
                      <div key={f.name} className="contents">
                        <dt className="text-slate-500">{f.label}</dt>
                        <dd data-field={f.name}>{f.value || "—"}</dd>
                      </div>
                    ))}
                  </dl>
                ) : null}
              </li>
            ))}
          </ol>
        </CardBody>
      </Card>
    </>
  );
}
