import type { Metadata } from "next";
import { DecodedJwt } from "@/components/devices/decoded-jwt";
import { DeviceActions } from "@/components/devices/device-actions";
import { DeviceStatusBadge } from "@/components/devices/device-status-badge";
import { EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { formatUtc } from "@/components/ui/format";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { getDb } from "@/db";
import { AUDIT_ACTIONS, type AuditAction } from "@/lib/audit/actions";
import { type DeviceDetail, getDeviceDetail } from "@/lib/devices";
import { can } from "@/lib/staff/rbac";
import { loadForPage, requireStaffPage } from "@/server/staff-session";
import { revokeDeviceTokensAction, setDeviceDisabledAction } from "../actions";

export const metadata: Metadata = { title: "Device" };

const ISSUED_BY = { "device.registered": "at registration", "device.login": "at a login", "device.token_refreshed": "by a refresh" } as const;

const when = (d: Date | null) => formatUtc(d, { seconds: true });

function left(seconds: number): string {
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-sm text-slate-500">{label}</dt>
      <dd className="text-sm text-slate-900">{children ?? <span className="text-slate-500">—</span>}</dd>
    </>
  );
}

function historyLine(e: DeviceDetail["history"][number]): string {
  const d = e.details;
  if (e.action === "device.login_failed") return `Reason: ${String(d.reason ?? "unknown")}`;
  if (e.action === "device.refresh_reuse_detected")
    return `A used refresh token came back; ${String(d.revokedRefreshTokens ?? 0)} live refresh token(s) revoked.`;
  if (e.action === "device.tokens_revoked") return `${String(d.revokedRefreshTokens ?? 0)} refresh token(s) revoked.`;
  const issued = d.issued as { jti?: string; exp?: number } | undefined;
  if (issued?.jti) return `JWT ${issued.jti.slice(0, 8)}… valid until ${when(new Date((issued.exp ?? 0) * 1000))}`;
  return "";
}

export default async function DevicePage({ params }: { params: Promise<{ id: string }> }) {
  const actor = await requireStaffPage("devices:read");
  const { id } = await params;
  const detail: DeviceDetail = await loadForPage(getDeviceDetail(await getDb(), actor, id));
  const { device, instance, currentJwt, refreshTokens, history } = detail;
  const mayManage = can(actor.role, "devices:manage", instance.environment);
  const title = device.clientId ?? ([device.firstName, device.lastName].filter(Boolean).join(" ") || `Device ${device.deviceTokenPrefix}…`);
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/devices" className="text-indigo-700 underline-offset-4 hover:underline">
          ← Devices
        </Link>
      </p>
      <PageHeader
        title={title}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <DeviceStatusBadge disabled={device.disabled} />
            <span className="font-mono text-xs">{device.deviceTokenPrefix}…</span>
            <span>registered {when(device.createdAt)}</span>
          </span>
        }
      />
      {mayManage ? (
        <Card className="mb-6">
          <CardHeader
            title="Actions"
            description={device.disabled ? `Disabled ${when(device.disabledAt)}.` : "Each action asks for a reason, recorded in the audit log."}
          />
          <CardBody>
            <DeviceActions
              deviceId={device.id}
              disabled={device.disabled}
              liveRefreshTokens={refreshTokens.live}
              setDisabled={setDeviceDisabledAction}
              revokeTokens={revokeDeviceTokensAction}
            />
          </CardBody>
        </Card>
      ) : null}
      <div className="mb-6 grid gap-6 lg:grid-cols-2">
        <Card>
          <CardHeader title="Registration" />
          <CardBody>
            <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-2">
              <Row label="Device id">
                <span className="font-mono text-xs">{device.id}</span>
              </Row>
              <Row label="ClientId">{device.clientId}</Row>
              <Row label="First name">{device.firstName}</Row>
              <Row label="Last name">{device.lastName}</Row>
              <Row label="Nickname">{device.nickname}</Row>
              <Row label="Email">{device.email}</Row>
              <Row label="Phone">{device.phone}</Row>
              <Row label="CustomToken">{device.hasCustomToken ? "set (not shown)" : null}</Row>
              <Row label="Last login">{device.lastLoginAt ? when(device.lastLoginAt) : "never"}</Row>
            </dl>
          </CardBody>
        </Card>
        <Card>
          <CardHeader title="Instance" />
          <CardBody>
            <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-2">
              <Row label="Name">{instance.name}</Row>
              <Row label="InstanceId">
                <span className="font-mono text-xs">{instance.id}</span>
              </Row>
              <Row label="Environment">
                <Badge tone={instance.environment === "production" ? "warn" : "neutral"}>{instance.environment}</Badge>
              </Row>
              <Row label="JWT lifetime">{instance.jwtTtlSeconds} s</Row>
              <Row label="Refresh lifetime">{Math.round(instance.refreshTtlSeconds / 86_400)} days</Row>
              <Row label="Refresh tokens">
                {refreshTokens.live} live · {refreshTokens.used} used · {refreshTokens.revoked} revoked · {refreshTokens.expired} expired
              </Row>
            </dl>
          </CardBody>
        </Card>
      </div>
      <Card className="mb-6" data-testid="current-jwt">
        <CardHeader
          title="Current JWT"
          description="The JWT issued last (at registration, login or refresh). tokendesk does not keep issued tokens; its claims are rebuilt from the jti, iat and exp recorded when it was issued. To check an actual token, paste it into the JWT inspector."
          actions={
            currentJwt ? (
              currentJwt.status === "valid" ? (
                <Badge tone="good">Valid · {left(currentJwt.secondsLeft)} left</Badge>
              ) : currentJwt.status === "expired" ? (
                <Badge tone="bad">Expired {when(currentJwt.expiresAt)}</Badge>
              ) : (
                <Badge tone="bad">Refused: device disabled</Badge>
              )
            ) : null
          }
        />
        <CardBody>
          {currentJwt ? (
            <>
              <p className="mb-3 text-sm text-slate-700">
                Issued {when(currentJwt.issuedAt)} {ISSUED_BY[currentJwt.issuedBy]}; expires {when(currentJwt.expiresAt)}.
              </p>
              <DecodedJwt header={currentJwt.header} claims={currentJwt.claims} />
            </>
          ) : (
            <EmptyState title="No JWT on record">This device has no recorded issuance.</EmptyState>
          )}
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="History" description="Registration, logins, refreshes and support actions, newest first (from the audit log)." />
        <CardBody>
          {history.length === 0 ? (
            <EmptyState title="Nothing recorded yet" />
          ) : (
            <Table>
              <THead>
                <TR>
                  <TH>When</TH>
                  <TH>What</TH>
                  <TH>Who</TH>
                  <TH>Details</TH>
                </TR>
              </THead>
              <TBody>
                {history.map((e) => (
                  <TR key={e.id}>
                    <TD className="whitespace-nowrap text-slate-600">{when(e.occurredAt)}</TD>
                    <TD>
                      <span className="font-medium">{AUDIT_ACTIONS[e.action as AuditAction] ?? e.action}</span>
                      {e.outcome !== "success" ? (
                        <Badge tone="bad" className="ml-2">
                          {e.outcome}
                        </Badge>
                      ) : null}
                    </TD>
                    <TD className="text-slate-600">
                      {e.actorType === "staff" ? e.actorName : e.actorType === "device" ? "the device" : e.actorType}
                      {e.ip ? <span className="block text-xs">{e.ip}</span> : null}
                    </TD>
                    <TD className="text-slate-700">
                      {e.reason ? <span className="block">Reason: {e.reason}</span> : null}
                      {historyLine(e)}
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
          )}
        </CardBody>
      </Card>
    </>
  );
}
