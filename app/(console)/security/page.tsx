import type { Metadata } from "next";
import { SecurityPanel } from "@/components/security/security-panel";
import { PageHeader } from "@/components/ui/card";
import { getDb } from "@/db";
import { getSecuritySettings, mySecondFactors } from "@/lib/staff/second-factor";
import { requireStaffPage } from "@/server/staff-session";
import {
  beginPasskeyAction,
  beginTotpAction,
  confirmTotpAction,
  finishPasskeyAction,
  regenerateRecoveryCodesAction,
  removePasskeyAction,
  removeTotpAction,
} from "./actions";

export const metadata: Metadata = { title: "Security" };

export default async function SecurityPage() {
  const actor = await requireStaffPage("console:view");
  const db = await getDb();
  const [summary, policy] = await Promise.all([mySecondFactors(db, actor), getSecuritySettings(db)]);
  return (
    <>
      <PageHeader
        title="Security"
        description="Your second factors: an authenticator app, passkeys, and recovery codes for when you have neither at hand. Changes are recorded in the audit log."
      />
      <SecurityPanel
        actions={{
          beginTotp: beginTotpAction,
          confirmTotp: confirmTotpAction,
          removeTotp: removeTotpAction,
          beginPasskey: beginPasskeyAction,
          finishPasskey: finishPasskeyAction,
          removePasskey: removePasskeyAction,
          regenerateRecoveryCodes: regenerateRecoveryCodesAction,
        }}
        summary={summary}
        required={policy.requireSecondFactor}
        productionNeedsStrongAuth={policy.productionNeedsStrongAuth}
      />
    </>
  );
}
