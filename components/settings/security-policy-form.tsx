"use client";
import { ActionForm, type FormAction } from "@/components/staff/action-form";
import { Button } from "@/components/ui/button";

/** The deployment's sign-in policy switches (lib/staff/second-factor.ts). */
export function SecurityPolicyForm({ values, action }: { values: { requireSecondFactor: boolean; productionNeedsStrongAuth: boolean }; action: FormAction }) {
  return (
    <ActionForm action={action} className="space-y-3" label="Sign-in security">
      {(pending) => (
        <>
          <label className="flex items-start gap-2 text-sm">
            <input type="checkbox" name="requireSecondFactor" value="on" defaultChecked={values.requireSecondFactor} className="mt-1" />
            <span>
              <span className="font-medium">Require a second factor</span>
              <span className="block text-slate-600">
                Staff who sign in with a password must use an authenticator app or a passkey; those without one set it up at their next sign-in. Password
                sessions signed in without one end.
              </span>
            </span>
          </label>
          <label className="flex items-start gap-2 text-sm">
            <input type="checkbox" name="productionNeedsStrongAuth" value="on" defaultChecked={values.productionNeedsStrongAuth} className="mt-1" />
            <span>
              <span className="font-medium">Production actions need a second factor or SSO</span>
              <span className="block text-slate-600">
                Issuing tokens, disabling users, keys, instances and settings in production are refused to sessions signed in with a password alone.
              </span>
            </span>
          </label>
          <Button type="submit" disabled={pending}>
            {pending ? "Saving…" : "Save sign-in security"}
          </Button>
        </>
      )}
    </ActionForm>
  );
}
