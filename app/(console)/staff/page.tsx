import type { Metadata } from "next";
import { CreateStaffForm, StaffTable } from "@/components/staff/staff-admin";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { getDb } from "@/db";
import { listStaff } from "@/lib/staff/staff";
import { requireStaffPage } from "@/server/staff-session";
import { changeRoleAction, createStaffAction, resetPasswordAction, setDisabledAction } from "./actions";

export const metadata: Metadata = { title: "Staff" };

export default async function StaffPage() {
  const actor = await requireStaffPage("staff:manage");
  const members = await listStaff(await getDb(), actor);
  return (
    <>
      <PageHeader title="Staff" description="Who may use this console and with which role. Changes apply on the member's next request." />
      <Card className="mb-6">
        <CardHeader title="Add a staff member" />
        <CardBody>
          <CreateStaffForm action={createStaffAction} />
        </CardBody>
      </Card>
      <Card>
        <CardHeader title={`${members.length} staff member${members.length === 1 ? "" : "s"}`} />
        <CardBody>
          <StaffTable
            members={members}
            selfId={actor.id}
            actions={{ create: createStaffAction, changeRole: changeRoleAction, setDisabled: setDisabledAction, resetPassword: resetPasswordAction }}
          />
        </CardBody>
      </Card>
    </>
  );
}
