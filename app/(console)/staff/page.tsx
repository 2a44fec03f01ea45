import type { Metadata } from "next";
import { CreateStaffForm, StaffTable } from "@/components/staff/staff-admin";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { getDb } from "@/db";
import { MIN_PASSWORD_LENGTH } from "@/lib/staff/passwords";
import { secondFactorsByStaff } from "@/lib/staff/second-factor";
import { listStaff } from "@/lib/staff/staff";
import { requireStaffPage } from "@/server/staff-session";
import { changeRoleAction, createStaffAction, resetPasswordAction, resetSecondFactorsAction, setDisabledAction } from "./actions";

export const metadata: Metadata = { title: "Staff" };

export default async function StaffPage() {
  const actor = await requireStaffPage("staff:manage");
  const db = await getDb();
  const [members, factors] = await Promise.all([listStaff(db, actor), secondFactorsByStaff(db, actor)]);
  return (
    <>
      <PageHeader title="Staff" description="Who may use this console and with which role. Changes apply on the member's next request." />
      <Card className="mb-6">
        <CardHeader title="Add a staff member" />
        <CardBody>
          <CreateStaffForm action={createStaffAction} minPasswordLength={MIN_PASSWORD_LENGTH} />
        </CardBody>
      </Card>
      <Card>
        <CardHeader title={`${members.length} staff member${members.length === 1 ? "" : "s"}`} />
        <CardBody>
          <StaffTable
            members={members}
            selfId={actor.id}
            factors={Object.fromEntries(factors)}
            actions={{
              create: createStaffAction,
              changeRole: changeRoleAction,
              setDisabled: setDisabledAction,
              resetPassword: resetPasswordAction,
              resetSecondFactors: resetSecondFactorsAction,
            }}
          />
        </CardBody>
      </Card>
    </>
  );
}
