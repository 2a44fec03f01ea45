"use client";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogTrigger } from "@/components/ui/dialog";
import { formatUtc } from "@/components/ui/format";
import { Field, Input, Select } from "@/components/ui/input";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { ReasonDialog } from "@/components/users/reason-dialog";
import { ROLE_DESCRIPTIONS, ROLE_LABELS, STAFF_ROLES } from "@/lib/staff/rbac";
import type { StaffView } from "@/lib/staff/staff";
import { ActionForm, type FormAction } from "./action-form";

export interface StaffActions {
  create: FormAction;
  changeRole: FormAction;
  setDisabled: FormAction;
  resetPassword: FormAction;
  resetSecondFactors: FormAction;
}

/** Which second factors each member has (lib/staff/second-factor.ts secondFactorsByStaff). */
export type StaffFactors = Record<string, { totp: boolean; passkeys: number }>;

function RoleOptions() {
  return (
    <>
      {STAFF_ROLES.map((r) => (
        <option key={r} value={r}>
          {ROLE_LABELS[r]}
        </option>
      ))}
    </>
  );
}

export function CreateStaffForm({ action, minPasswordLength }: { action: FormAction; minPasswordLength: number }) {
  return (
    <ActionForm action={action} className="grid gap-3 md:grid-cols-5" label="Add a staff member" fields={["email", "name", "role", "password"]}>
      {(pending, fieldError) => (
        <>
          <Field label="Email" htmlFor="new-email" error={fieldError("email")}>
            <Input id="new-email" name="email" type="email" required maxLength={254} aria-invalid={fieldError("email") ? true : undefined} />
          </Field>
          <Field label="Name" htmlFor="new-name" error={fieldError("name")}>
            <Input id="new-name" name="name" maxLength={120} aria-invalid={fieldError("name") ? true : undefined} />
          </Field>
          <Field label="Role" htmlFor="new-role" error={fieldError("role")}>
            <Select id="new-role" name="role" defaultValue="support">
              <RoleOptions />
            </Select>
          </Field>
          <Field label="Initial password" htmlFor="new-password" hint={`${minPasswordLength} characters or more`} error={fieldError("password")}>
            <Input
              id="new-password"
              name="password"
              type="password"
              autoComplete="new-password"
              required
              minLength={minPasswordLength}
              maxLength={1024}
              aria-invalid={fieldError("password") ? true : undefined}
            />
          </Field>
          <div className="flex items-end pb-5">
            <Button type="submit" disabled={pending}>
              {pending ? "Adding…" : "Add staff member"}
            </Button>
          </div>
        </>
      )}
    </ActionForm>
  );
}

function ResetPasswordDialog({ member, action }: { member: StaffView; action: FormAction }) {
  const [open, setOpen] = useState(false);
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant="ghost" size="sm">
          Reset password
        </Button>
      </DialogTrigger>
      <DialogContent
        title={`Reset the password of ${member.email}`}
        description="Their current sessions end. Give them the new password through a safe channel."
      >
        <ActionForm action={action} className="space-y-3">
          {(pending) => (
            <>
              <input type="hidden" name="id" value={member.id} />
              <Field label="New password" htmlFor={`pw-${member.id}`} hint="12 characters or more">
                <Input id={`pw-${member.id}`} name="password" type="password" autoComplete="new-password" required />
              </Field>
              <Button type="submit" disabled={pending}>
                {pending ? "Saving…" : "Set password"}
              </Button>
            </>
          )}
        </ActionForm>
      </DialogContent>
    </Dialog>
  );
}

/**
 * Disable or enable a member: like every other console action it asks first and wants a reason
 * (audited with the change); disabling says what it does to their sessions.
 */
function StaffStatusAction({ member, action }: { member: StaffView; action: FormAction }) {
  const [notice, setNotice] = useState<string | null>(null);
  const disabling = !member.disabled;
  return (
    <div>
      <ReasonDialog
        trigger={disabling ? "Disable" : "Enable"}
        triggerVariant={disabling ? "danger" : "secondary"}
        title={`${disabling ? "Disable" : "Enable"} ${member.email}?`}
        description={
          disabling
            ? `${member.name} is signed out everywhere at their next request and cannot sign in until an admin enables them again.`
            : `${member.name} can sign in again with their password or single sign-on.`
        }
        submitLabel={disabling ? "Disable member" : "Enable member"}
        pendingLabel={disabling ? "Disabling…" : "Enabling…"}
        danger={disabling}
        action={action}
        hidden={{ id: member.id, disabled: disabling ? "true" : "false" }}
        onDone={setNotice}
      />
      <div aria-live="polite">
        {notice ? (
          <Alert tone="success" className="mt-2">
            {notice}
          </Alert>
        ) : null}
      </div>
    </div>
  );
}

export function StaffTable({ members, actions, selfId, factors }: { members: StaffView[]; actions: StaffActions; selfId: string; factors: StaffFactors }) {
  return (
    <Table>
      <THead>
        <TR>
          <TH>Staff member</TH>
          <TH>Role</TH>
          <TH>Status</TH>
          <TH>Last sign-in</TH>
          <TH>
            <span className="sr-only">Actions</span>
          </TH>
        </TR>
      </THead>
      <TBody>
        {members.map((m) => (
          <TR key={m.id} data-testid={`staff-row-${m.email}`}>
            <TD>
              <span className="block font-medium">{m.name}</span>
              <span className="block text-xs text-slate-500">{m.email}</span>
              {m.sso ? <Badge className="mt-1">SSO</Badge> : null}
              {factors[m.id]?.totp || factors[m.id]?.passkeys ? (
                <Badge tone="good" className="mt-1">
                  Second factor
                </Badge>
              ) : null}
              {m.demo ? (
                <Badge tone="warn" className="mt-1">
                  Demo
                </Badge>
              ) : null}
            </TD>
            <TD>
              {/* Keyed by the role: a select's default is set once, so the saved role remounts it and a reset shows it. */}
              <ActionForm action={actions.changeRole} className="flex flex-wrap items-center gap-2" label={`Role of ${m.email}`}>
                {(pending) => (
                  <>
                    <input type="hidden" name="id" value={m.id} />
                    <Select key={m.role} name="role" defaultValue={m.role} aria-label={`Role of ${m.email}`} className="w-32" title={ROLE_DESCRIPTIONS[m.role]}>
                      <RoleOptions />
                    </Select>
                    <Button type="submit" size="sm" variant="secondary" disabled={pending}>
                      Save role
                    </Button>
                  </>
                )}
              </ActionForm>
            </TD>
            <TD>{m.disabled ? <Badge tone="bad">Disabled</Badge> : <Badge tone="good">Active</Badge>}</TD>
            <TD className="text-xs text-slate-600">{m.lastSignInAt ? formatUtc(m.lastSignInAt) : "never"}</TD>
            <TD>
              {/* Wraps at 1024 px rather than pushing the table past its card. */}
              <div className="flex flex-wrap items-start gap-1">
                {m.id !== selfId ? <StaffStatusAction member={m} action={actions.setDisabled} /> : null}
                <ResetPasswordDialog member={m} action={actions.resetPassword} />
                {factors[m.id]?.totp || factors[m.id]?.passkeys ? (
                  <ActionForm action={actions.resetSecondFactors} label={`Reset the second factors of ${m.email}`}>
                    {(pending) => (
                      <>
                        <input type="hidden" name="id" value={m.id} />
                        <Button type="submit" size="sm" variant="ghost" disabled={pending}>
                          Reset second factor
                        </Button>
                      </>
                    )}
                  </ActionForm>
                ) : null}
              </div>
            </TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
