"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Field, Input } from "@/components/ui/input";
import { type ReasonAction, ReasonDialog } from "./reason-dialog";
import { sessionsQueryKey } from "./user-sessions";
import { signInTokensQueryKey } from "./user-sign-in-tokens";

/** Disable/enable and delete, offered only when the role may (the server checks again). */
export function UserActions({
  user,
  canDisable,
  canDelete,
  setDisabled,
  remove,
}: {
  user: { id: string; clientUserId: string; status: "active" | "disabled" | "deleted" };
  canDisable: boolean;
  canDelete: boolean;
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
