import type { Metadata } from "next";
import { CreateInstanceForm } from "@/components/devices/create-instance-form";
import { EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { formatUtc } from "@/components/ui/format";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { getDb } from "@/db";
import { listInstances } from "@/lib/devices";
import { requireStaffPage } from "@/server/staff-session";
import { createInstanceAction } from "./actions";

export const metadata: Metadata = { title: "Instances" };

function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${seconds} s`;
}

export default async function InstancesPage() {
  const actor = await requireStaffPage("instances:manage");
  const list = await listInstances(await getDb(), actor);
  return (
    <>
      <PageHeader
        title="Instances"
        description="A telematics app registers its devices with an InstanceId and InstanceKey (POST /v1/Registration/create), and devices log in with InstanceId, DeviceToken and InstanceKey."
      />
      <Card className="mb-6">
        <CardHeader
          title="Create an instance"
          description="The device JWT lifetime is the ExpiresIn apps see; refresh tokens are single-use and last this long unused."
        />
        <CardBody>
          <CreateInstanceForm action={createInstanceAction} />
        </CardBody>
      </Card>
      <Card>
        <CardHeader title={`${list.length} instance${list.length === 1 ? "" : "s"}`} />
        <CardBody>
          {list.length === 0 ? (
            <EmptyState title="No instances yet">Create one above, or with `tokendesk instances create`.</EmptyState>
          ) : (
            <Table>
              <THead>
                <TR>
                  <TH>Name</TH>
                  <TH>InstanceId</TH>
                  <TH>Environment</TH>
                  <TH>JWT lifetime</TH>
                  <TH>Refresh lifetime</TH>
                  <TH>Created</TH>
                </TR>
              </THead>
              <TBody>
                {list.map((i) => (
                  <TR key={i.id} data-testid={`instance-row-${i.id}`}>
                    <TD className="font-medium">{i.name}</TD>
                    <TD className="font-mono text-xs [overflow-wrap:anywhere]">{i.id}</TD>
                    <TD>
                      <Badge tone={i.environment === "production" ? "warn" : "neutral"}>{i.environment}</Badge>
                    </TD>
                    <TD>{duration(i.jwtTtlSeconds)}</TD>
                    <TD>{duration(i.refreshTtlSeconds)}</TD>
                    <TD className="text-slate-600">
                      <time className="whitespace-nowrap" dateTime={i.createdAt.toISOString()}>
                        {formatUtc(i.createdAt)}
                      </time>
                      {i.createdBy ? <span className="block text-xs [overflow-wrap:anywhere]">by {i.createdBy}</span> : null}
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
