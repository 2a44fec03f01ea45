import type { Metadata } from "next";
import { ApiKeyTable } from "@/components/api-keys/api-key-table";
import { CreateApiKeyDialog } from "@/components/api-keys/create-api-key-dialog";
import { EmptyState } from "@/components/ui/alert";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { getDb } from "@/db";
import { API_KEY_SCOPES, listApiKeys } from "@/lib/api-keys";
import { requireStaffPage } from "@/lib/next/session";
import { regions } from "@/lib/settings/regions";
import { createApiKeyAction, revokeApiKeyAction } from "./actions";

export const metadata: Metadata = { title: "API keys" };

export default async function ApiKeysPage() {
  const actor = await requireStaffPage("api_keys:manage");
  const keys = await listApiKeys(await getDb(), actor);
  const live = keys.filter((k) => !k.revokedAt).length;
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
            <ApiKeyTable keys={keys} revokeAction={revokeApiKeyAction} allScopes={[...API_KEY_SCOPES]} />
          ) : (
            <EmptyState title="No API keys yet">Create one for each backend that talks to tokendesk, per environment and region.</EmptyState>
          )}
        </CardBody>
      </Card>
    </>
  );
}
