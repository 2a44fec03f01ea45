import type { Metadata } from "next";
import { SecurityPolicyForm } from "@/components/settings/security-policy-form";
import { SettingsForm } from "@/components/settings/settings-form";
import { SigningKeys } from "@/components/settings/signing-keys-card";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { getDb } from "@/db";
import { environmentSettings } from "@/db/schema";
import { ENVIRONMENTS } from "@/lib/environments";
import { listPublishedSigningKeys } from "@/lib/oauth/signing-keys";
import { getSettings } from "@/lib/settings";
import { getSecuritySettings } from "@/lib/staff/second-factor";
import { requireStaffPage } from "@/server/staff-session";
import { rotateSigningKeyAction, updateSecurityPolicyAction, updateSettingsAction } from "./actions";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const actor = await requireStaffPage("settings:manage");
  const db = await getDb();
  const updated = new Map(
    (await db.select({ env: environmentSettings.environment, at: environmentSettings.updatedAt }).from(environmentSettings)).map((r) => [r.env, r.at]),
  );
  const perEnv = await Promise.all(ENVIRONMENTS.map(async (env) => ({ env, settings: await getSettings(db, env) })));
  const keys = await listPublishedSigningKeys(db, actor);
  const policy = await getSecuritySettings(db);
  return (
    <>
      <PageHeader
        title="Settings"
        description="Token lifetimes per environment and the keys that sign access tokens. Every change is recorded in the audit log."
      />
      <div className="space-y-6">
        <Card>
          <CardHeader
            title="Sign-in security"
            description="Second factors for staff who sign in with a password. Single sign-on users rely on their identity provider."
          />
          <CardBody>
            <SecurityPolicyForm values={policy} action={updateSecurityPolicyAction} />
          </CardBody>
        </Card>
        {perEnv.map(({ env, settings }) => (
          <Card key={env}>
            <CardHeader
              title={env === "sandbox" ? "Sandbox lifetimes" : "Production lifetimes"}
              description={env === "sandbox" ? "Users and tokens of sandbox keys (sk_…)." : "Users and tokens of production keys (pk_…)."}
            />
            <CardBody>
              <SettingsForm
                values={{
                  environment: env,
                  signInTokenTtlSeconds: settings.signInTokenTtlSeconds,
                  accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
                  refreshAbsoluteTtlSeconds: settings.refreshAbsoluteTtlSeconds,
                  refreshGraceSeconds: settings.refreshGraceSeconds,
                }}
                updatedAt={updated.get(env) ?? null}
                action={updateSettingsAction}
              />
            </CardBody>
          </Card>
        ))}
        <Card>
          <CardHeader
            title="Signing keys"
            description="Access tokens are ES256 JWTs; resource servers verify them with the public keys at /.well-known/jwks.json."
          />
          <CardBody>
            <SigningKeys keys={keys} rotateAction={rotateSigningKeyAction} />
          </CardBody>
        </Card>
      </div>
    </>
  );
}
