"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { describeActor } from "@/components/ui/actor";
import { Alert, EmptyState } from "@/components/ui/alert";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { PendingSignInTokenJson } from "@/server/routes/console";
import { type ReasonAction, ReasonDialog } from "./reason-dialog";

export const signInTokensQueryKey = (userId: string) => ["user-sign-in-tokens", userId] as const;

async function fetchTokens(userId: string): Promise<PendingSignInTokenJson[]> {
  const res = await fetch(`/api/console/users/${userId}/sign-in-tokens`, { cache: "no-store", headers: { accept: "application/json" } });
  const body = (await res.json().catch(() => null)) as { tokens?: PendingSignInTokenJson[]; error?: { message: string } } | null;
  if (!res.ok || !body?.tokens) throw new Error(body?.error?.message ?? `The sign-in tokens could not be loaded (HTTP ${res.status}).`);
  return body.tokens;
}

function issuer(t: PendingSignInTokenJson): { text: string; title: string | undefined } {
  return describeActor(t.issuedBy);
}

/**
 * The user's sign-in tokens not yet used, revoked or expired (issue 14, point 5): who issued each,
 * when, until when, with Revoke (a reason, audited). Kept live like the sessions: refetched every
 * 15 s, and at once after an issue or a revocation (both invalidate this query).
 */
export function UserSignInTokens({
  userId,
  initial,
  canRevoke,
  revoke,
}: {
  userId: string;
  initial: PendingSignInTokenJson[];
  canRevoke: boolean;
  revoke: ReasonAction;
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [notice, setNotice] = useState<string | null>(null);
  const query = useQuery({
    queryKey: signInTokensQueryKey(userId),
    queryFn: () => fetchTokens(userId),
    initialData: initial,
    initialDataUpdatedAt: Date.now(),
    refetchInterval: 15_000,
  });
  const tokens = query.data.filter((t) => Date.parse(t.expiresAt) > Date.now());
  const done = (message: string) => {
    setNotice(message);
    void queryClient.invalidateQueries({ queryKey: signInTokensQueryKey(userId) });
    router.refresh(); // the timeline is server-rendered
  };

  return (
    <div className="space-y-3" data-testid="user-sign-in-tokens">
      {notice ? <Alert tone="success">{notice}</Alert> : null}
      {query.isError ? <Alert tone="warning">{query.error.message} Showing what was loaded last.</Alert> : null}
      {tokens.length === 0 ? (
        <EmptyState title="No pending sign-in tokens">Tokens issued to this user appear here until they are used, revoked or expire.</EmptyState>
      ) : (
        <Table>
          <THead>
            <TR>
              <TH>Issued by</TH>
              <TH>Issued</TH>
              <TH>Expires</TH>
              <TH>
                <span className="sr-only">Actions</span>
              </TH>
            </TR>
          </THead>
          <TBody>
            {tokens.map((t) => {
              const by = issuer(t);
              return (
                <TR key={t.id} data-testid="pending-token-row" data-token-id={t.id}>
                  <TD>
                    <span className="block max-w-[14rem] truncate" title={by.title}>
                      {by.text}
                    </span>
                    {t.reason ? <span className="block max-w-[14rem] truncate text-xs text-slate-600">“{t.reason}”</span> : null}
                  </TD>
                  <TD className="whitespace-nowrap text-xs text-slate-600" title={formatUtc(t.createdAt, { seconds: true })} suppressHydrationWarning>
                    {relativeTime(t.createdAt)}
                  </TD>
                  <TD className="whitespace-nowrap text-xs text-slate-600" title={formatUtc(t.expiresAt, { seconds: true })} suppressHydrationWarning>
                    {relativeTime(t.expiresAt)}
                  </TD>
                  <TD>
                    {canRevoke ? (
                      <ReasonDialog
                        trigger="Revoke"
                        triggerVariant="ghost"
                        triggerLabel={`Revoke the sign-in token issued ${formatUtc(t.createdAt)} by ${by.text}`}
                        title="Revoke this sign-in token?"
                        description="Nobody can sign in with it any more. Sessions it already started are not affected."
                        submitLabel="Revoke token"
                        pendingLabel="Revoking…"
                        danger
                        action={revoke}
                        hidden={{ userId, tokenId: t.id }}
                        onDone={done}
                      />
                    ) : null}
                  </TD>
                </TR>
              );
            })}
          </TBody>
        </Table>
      )}
    </div>
  );
}
