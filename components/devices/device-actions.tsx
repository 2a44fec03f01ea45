"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { type ReasonAction, ReasonDialog } from "@/components/users/reason-dialog";

/** Disable/enable the device and revoke its refresh tokens; each asks why (the audit log keeps it). */
export function DeviceActions({
  deviceId,
  disabled,
  liveRefreshTokens,
  setDisabled,
  revokeTokens,
}: {
  deviceId: string;
  disabled: boolean;
  liveRefreshTokens: number;
  setDisabled: ReasonAction;
  revokeTokens: ReasonAction;
}) {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);
  const done = (m: string) => {
    setMessage(m);
    router.refresh();
  };
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        {disabled ? (
          <ReasonDialog
            trigger="Enable device"
            title="Enable this device?"
            description="Its JWTs that have not expired, its refresh tokens and its logins work again at once."
            submitLabel="Enable device"
            pendingLabel="Enabling…"
            action={setDisabled}
            hidden={{ id: deviceId, disabled: "false" }}
            onDone={done}
          />
        ) : (
          <ReasonDialog
            trigger="Disable device"
            triggerVariant="danger"
            title="Disable this device?"
            description="From now on tokendesk refuses its JWTs (401), its refresh tokens and its logins, until someone enables it again."
            submitLabel="Disable device"
            pendingLabel="Disabling…"
            danger
            action={setDisabled}
            hidden={{ id: deviceId, disabled: "true" }}
            onDone={done}
          />
        )}
        <ReasonDialog
          trigger="Revoke refresh tokens"
          title="Revoke this device's refresh tokens?"
          description={`${liveRefreshTokens} live refresh token${liveRefreshTokens === 1 ? "" : "s"} will stop working. The current JWT keeps working until it expires; then the app must log in again.`}
          submitLabel="Revoke refresh tokens"
          pendingLabel="Revoking…"
          danger
          action={revokeTokens}
          hidden={{ id: deviceId }}
          onDone={done}
        />
      </div>
      <div aria-live="polite">{message ? <Alert tone="success">{message}</Alert> : null}</div>
    </div>
  );
}
