import type { Metadata } from "next";
import { DeviceStatusBadge } from "@/components/devices/device-status-badge";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, PageHeader } from "@/components/ui/card";
import { formatUtc } from "@/components/ui/format";
import { Input, Label } from "@/components/ui/input";
import { KeysetPager } from "@/components/ui/keyset-pager";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { getDb } from "@/db";
import { type DevicePage, searchDevices } from "@/lib/devices";
import { isDomainError } from "@/lib/errors";
import { requireStaffPage } from "@/server/staff-session";
import { findDeviceAction } from "./actions";

export const metadata: Metadata = { title: "Devices" };

type Search = Promise<Record<string, string | string[] | undefined>>;

const MATCHED: Record<DevicePage["matchedBy"], string> = {
  recent: "Most recently registered devices",
  device_token: "Device with this DeviceToken",
  device_token_prefix: "Devices whose DeviceToken starts like this",
  device_id: "Device with this id",
  text: "Devices whose ClientId, email or name starts like this",
};

export default async function DevicesPage({ searchParams }: { searchParams: Search }) {
  const actor = await requireStaffPage("devices:read");
  const raw = await searchParams;
  const q = typeof raw.q === "string" ? raw.q : "";
  const after = typeof raw.after === "string" ? raw.after : null;
  const tokenNotFound = raw.token === "none";

  let body: React.ReactNode;
  try {
    const page = await searchDevices(await getDb(), actor, { q, after });
    body = (
      <>
        {tokenNotFound ? (
          <Alert tone="warning" className="mb-3">
            No device has that DeviceToken{actor.role === "qa" ? " in sandbox" : ""}. Devices whose token starts the same way are listed below.
          </Alert>
        ) : null}
        <p className="mb-3 text-sm text-slate-600">
          {MATCHED[page.matchedBy]}
          {actor.role === "qa" ? " (sandbox only)" : ""}.
        </p>
        {page.devices.length === 0 ? (
          <EmptyState title={q ? "No device matches" : "No devices yet"}>
            {q ? "Check the DeviceToken or ClientId, or search by email or name." : "Devices appear here when an app calls POST /v1/Registration/create."}
          </EmptyState>
        ) : (
          <Table>
            <THead>
              <TR>
                <TH>Device</TH>
                <TH>ClientId</TH>
                <TH>Name / email</TH>
                <TH>Instance</TH>
                <TH>Status</TH>
                <TH>Last login</TH>
              </TR>
            </THead>
            <TBody>
              {page.devices.map((d) => (
                <TR key={d.id} data-testid={`device-row-${d.id}`}>
                  <TD>
                    <Link className="font-mono text-xs text-indigo-700 underline-offset-4 hover:underline" href={`/devices/${d.id}`}>
                      {d.deviceTokenPrefix}…
                    </Link>
                  </TD>
                  <TD className="font-medium">{d.clientId ?? <span className="text-slate-500">—</span>}</TD>
                  <TD>
                    {[d.firstName, d.lastName].filter(Boolean).join(" ") || d.nickname || <span className="text-slate-500">—</span>}
                    {d.email ? <span className="block text-xs text-slate-500 [overflow-wrap:anywhere]">{d.email}</span> : null}
                  </TD>
                  <TD>
                    {d.instanceName} <Badge tone={d.environment === "production" ? "warn" : "neutral"}>{d.environment}</Badge>
                  </TD>
                  <TD>
                    <DeviceStatusBadge disabled={d.disabled} />
                  </TD>
                  <TD className="text-xs text-slate-600">{d.lastLoginAt ? formatUtc(d.lastLoginAt) : "never"}</TD>
                </TR>
              ))}
            </TBody>
          </Table>
        )}
        <KeysetPager
          path="/devices"
          params={new URLSearchParams(q ? { q } : {})}
          nextCursor={page.nextCursor}
          onLaterPage={Boolean(after)}
          nextLabel="More devices"
          cursorParam="after"
        />
      </>
    );
  } catch (err) {
    if (!isDomainError(err)) throw err;
    body = <Alert tone="error">{err.message}</Alert>;
  }

  return (
    <>
      <PageHeader
        title="Devices"
        description="Telematics devices and their DeviceTokens. Paste a whole DeviceToken (it is matched by its hash), its first characters, a ClientId, an email or a name."
      />
      <Card>
        <CardBody className="border-b border-slate-200">
          {/* Posts to findDeviceAction, which keeps whole DeviceTokens out of the URL and shares the rest. */}
          <form action={findDeviceAction} role="search" aria-label="Find a device" className="flex flex-wrap items-end gap-3">
            <div className="min-w-64 flex-1">
              <Label htmlFor="device-q">DeviceToken, ClientId, email or name</Label>
              <Input id="device-q" name="q" defaultValue={q} autoComplete="off" spellCheck={false} placeholder="dt_… or client id" />
            </div>
            <Button type="submit">Search</Button>
          </form>
          <p className="mt-2 text-xs text-slate-500">A whole DeviceToken is matched by its hash and never put in the page address.</p>
        </CardBody>
        <CardBody>{body}</CardBody>
      </Card>
    </>
  );
}
