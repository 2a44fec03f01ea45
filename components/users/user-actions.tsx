"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Field, Input } from "@/components/ui/input";
import { type ReasonAction, ReasonDialog } from "./reason-dialog";
import { sessionsQueryKey } from "./user-sessions";
import { signInTokensQueryKey } from "./user-sign-in-tokens";

/** Edit, disable/enable and delete, offered only when the role may (the server checks again). */
export function UserActions({
  user,
  canEdit,
  canDisable,
  canDelete,
  update,
  setDisabled,
  remove,
}: {
  user: { id: string; clientUserId: string; name: string | null; email: string | null; status: "active" | "disabled" | "deleted" };
  canEdit: boolean;
  canDisable: boolean;
  canDelete: boolean;
  update: ReasonAction;
  setDisabled: ReasonAction;
  remove: ReasonAction;
}) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  if (user.status === "deleted") return null;
  // Disabling or deleting ends every session: the live lists on this page refetch at once, the
  // server-rendered parts refresh (issue 14, point 2: the state after a change is the state on screen).
  const done = (m: string) => {
    setNotice(m);
    void queryClient.invalidateQueries({ queryKey: sessionsQueryKey(user.id) });
    void queryClient.invalidateQueries({ queryKey: signInTokensQueryKey(user.id) });
    router.refresh();
  };
  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex flex-wrap gap-2">
        {canEdit ? (
          <ReasonDialog
            trigger="Edit"
            triggerLabel="Edit name and email"
            title={`Edit ${user.clientUserId}`}
            description="The name and email staff see and search by. The client user id is your backend's and cannot change here."
            submitLabel="Save changes"
            pendingLabel="Saving…"
            action={update}
            hidden={{ userId: user.id }}
            fields={["name", "email"]}
            onDone={done}
          >
            {(fieldError) => (
              <>
                <Field label="Name" htmlFor={`edit-name-${user.id}`} hint="Leave empty to remove the name." error={fieldError("name")}>
                  <Input
                    id={`edit-name-${user.id}`}
                    name="name"
                    defaultValue={user.name ?? ""}
                    maxLength={200}
                    autoComplete="off"
                    aria-invalid={fieldError("name") ? true : undefined}
                  />
                </Field>
                <Field label="Email" htmlFor={`edit-email-${user.id}`} hint="Leave empty to remove the email." error={fieldError("email")}>
                  <Input
                    id={`edit-email-${user.id}`}
                    name="email"
                    type="email"
                    defaultValue={user.email ?? ""}
                    maxLength={320}
                    autoComplete="off"
                    spellCheck={false}
                    aria-invalid={fieldError("email") ? true : undefined}
                  />
                </Field>
              </>
            )}
          </ReasonDialog>
        ) : null}
        {canDisable ? (
          user.status === "active" ? (
            <ReasonDialog
              trigger="Disable user"
              title={`Disable ${user.clientUserId}?`}
              description="Every session ends at once and no token of theirs works any more — live access tokens included — until you enable them again."
              submitLabel="Disable user"
              pendingLabel="Disabling…"
              danger
              action={setDisabled}
              hidden={{ userId: user.id, disabled: "true" }}
              onDone={done}
            />
          ) : (
            <ReasonDialog
              trigger="Enable user"
              title={`Enable ${user.clientUserId}?`}
              description="They can get sign-in tokens again. Sessions ended by the disabling stay ended."
              submitLabel="Enable user"
              pendingLabel="Enabling…"
              action={setDisabled}
              hidden={{ userId: user.id, disabled: "false" }}
              onDone={done}
            />
          )
        ) : null}
        {canDelete ? (
          <ReasonDialog
            trigger="Delete user"
            triggerVariant="danger"
            title={`Delete ${user.clientUserId}?`}
            description="Their apps are signed out (refresh answers user_deleted) and the client user id becomes free. The history stays in the audit log. This cannot be undone."
            submitLabel="Delete user"
            pendingLabel="Deleting…"
            danger
            action={remove}
            hidden={{ userId: user.id }}
            onDone={done}
          >
            <Field label={`Type ${user.clientUserId} to confirm`} htmlFor={`confirm-${user.id}`}>
              <Input id={`confirm-${user.id}`} name="confirm" required autoComplete="off" spellCheck={false} />
            </Field>
          </ReasonDialog>
        ) : null}
      </div>
      {notice ? <Alert tone="success">{notice}</Alert> : null}
    </div>
  );
}
