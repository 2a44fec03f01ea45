import type { Metadata } from "next";
import { ApiKeyTable } from "@/components/api-keys/api-key-table";
import { CreateApiKeyDialog } from "@/components/api-keys/create-api-key-dialog";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { getDb } from "@/db";
import { installationsStillUsingKeys, RECENT_USE_DAYS } from "@/lib/api-key-migration/report";
import { API_KEY_SCOPES, listApiKeys } from "@/lib/api-keys";
import { regions } from "@/lib/settings/regions";
import { requireStaffPage } from "@/server/staff-session";
import { createApiKeyAction, revokeApiKeyAction } from "./actions";

export const metadata: Metadata = { title: "API keys" };

export default async function ApiKeysPage() {
  const actor = await requireStaffPage("api_keys:manage");
  const db = await getDb();
  const keys = await listApiKeys(db, actor);
  const live = keys.filter((k) => !k.revokedAt).length;
  // What revoking each live key would break: installations still on it that have not migrated.
  const impact: Record<string, React.ReactNode> = {};
  const liveKeys = keys.filter((k) => !k.revokedAt);
  const stillUsing = await installationsStillUsingKeys(
    db,
    liveKeys.map((k) => k.id),
  );
  const recentSince = Date.now() - RECENT_USE_DAYS * 86_400_000;
  for (const k of liveKeys) {
    const n = stillUsing.get(k.id) ?? 0;
    // Every call counts, not only the apps': a backend calling with the key breaks as surely.
    const lastCall = k.lastUsedAt ? (
      <span title={formatUtc(k.lastUsedAt, { seconds: true })} suppressHydrationWarning>
        {relativeTime(k.lastUsedAt)}
      </span>
    ) : (
      "never"
    );
    impact[k.id] = (
      <div className="space-y-2" data-testid="revoke-impact">
        {n > 0 ? (
          <Alert tone="warning" title={`${n} installation${n === 1 ? "" : "s"} will break`}>
            <p>
              {n} app installation{n === 1 ? "" : "s"} used this key in the last {RECENT_USE_DAYS} days without migrating to sign-in tokens. They will fail as
              soon as the key is revoked. See{" "}
              <a className="underline" href={`/migrations?apiKeyId=${k.id}`}>
                the migration report
              </a>
              .
            </p>
            <label className="mt-2 flex items-center gap-2 font-medium">
              <input type="checkbox" name="confirmBreaking" value={n} required />I understand that {n} installation{n === 1 ? "" : "s"} will break
            </label>
          </Alert>
        ) : (
          <p className="text-sm text-slate-600">No installation has used this key without migrating in the last {RECENT_USE_DAYS} days.</p>
        )}
        {k.lastUsedAt && k.lastUsedAt.getTime() >= recentSince ? (
          <Alert tone="warning" title="This key is still in use">
            The last call with it was {lastCall}. Whatever made it (a backend minting sign-in tokens, most often) gets 401 from the moment the key is revoked:
            switch it to a new key first.
          </Alert>
        ) : (
          <p className="text-sm text-slate-600">Last call with this key: {lastCall}.</p>
        )}
      </div>
    );
  }
  return (
    <>
      <PageHeader
        title="API keys"
        description="Team API keys let your backend create users and issue sign-in tokens. A key is shown once when it is created; tokendesk keeps only a hash of it."
        actions={<CreateApiKeyDialog action={createApiKeyAction} regions={regions()} scopes={[...API_KEY_SCOPES]} />}
      />
      <Card>
        <CardHeader title={`${live} active key${live === 1 ? "" : "s"}`} description={keys.length > live ? `${keys.length - live} revoked` : undefined} />
        <CardBody>
          {keys.length ? (
            <ApiKeyTable keys={keys} revokeAction={revokeApiKeyAction} allScopes={[...API_KEY_SCOPES]} impact={impact} />
          ) : (
            <EmptyState title="No API keys yet">Create one for each backend that talks to tokendesk, per environment and region.</EmptyState>
          )}
        </CardBody>
      </Card>
    </>
  );
}
