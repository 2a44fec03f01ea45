"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { SessionJson } from "@/server/routes/console";
import { type ReasonAction, ReasonDialog } from "./reason-dialog";

export const sessionsQueryKey = (userId: string) => ["user-sessions", userId] as const;

async function fetchSessions(userId: string): Promise<SessionJson[]> {
  const res = await fetch(`/api/console/users/${userId}/sessions`, { cache: "no-store", headers: { accept: "application/json" } });
  const body = (await res.json().catch(() => null)) as { sessions?: SessionJson[]; error?: { message: string } } | null;
  if (!res.ok || !body?.sessions) throw new Error(body?.error?.message ?? `The sessions could not be loaded (HTTP ${res.status}).`);
  return body.sessions;
}

/**
 * Where a session was used from: the IP (recorded only behind a trusted proxy, as in the audit log)
 * and the User-Agent, at most two lines on screen (wrapping anywhere, so the table still fits a
 * 1024 px screen) with the whole of it on hover.
 */
function ClientUse({ ip, userAgent, testId }: { ip: string | null; userAgent: string | null; testId: string }) {
  const text = `${ip ?? "IP not recorded"} · ${userAgent ?? "no user agent"}`;
  return (
    <span className="mt-0.5 line-clamp-2 max-w-[16rem] text-xs text-slate-600 [overflow-wrap:anywhere]" title={text} data-testid={testId}>
      {text}
    </span>
  );
}

const stateBadge = { active: <Badge tone="good">Active</Badge>, revoked: <Badge tone="bad">Revoked</Badge>, expired: <Badge>Expired</Badge> };

const REVOKE_REASONS: Record<string, string> = {
  revoked_by_staff: "by staff",
  user_disabled: "user disabled",
  user_deleted: "user deleted",
  refresh_token_reuse: "refresh token reuse",
};

/**
 * The user's SDK sessions, kept live: refetched every 15 s and at once when the issue dialog sees
 * its token redeemed (it invalidates this query), so a new session shows without a reload.
 */
export function UserSessions({
  userId,
  initial,
  canRevoke,
  revokeOne,
  revokeAll,
}: {
  userId: string;
  initial: SessionJson[];
  canRevoke: boolean;
  revokeOne: ReasonAction;
  revokeAll: ReasonAction;
}) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const [notice, setNotice] = useState<string | null>(null);
  const query = useQuery({
    queryKey: sessionsQueryKey(userId),
    queryFn: () => fetchSessions(userId),
    initialData: initial,
    initialDataUpdatedAt: Date.now(),
    refetchInterval: 15_000,
  });
  const sessions = query.data;
  const live = sessions.filter((s) => s.state === "active");
  const done = (message: string) => {
    setNotice(message);
    void queryClient.invalidateQueries({ queryKey: sessionsQueryKey(userId) });
    router.refresh(); // the timeline is server-rendered
  };

  return (
    <div className="space-y-3" data-testid="user-sessions">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm text-slate-600">
          {live.length} active session{live.length === 1 ? "" : "s"}
          {sessions.length > live.length ? `, ${sessions.length - live.length} ended` : ""}
          {query.isFetching ? <span className="ml-2 text-xs text-slate-500">updating…</span> : null}
        </p>
        {canRevoke && live.length > 0 ? (
          <ReasonDialog
            trigger="Revoke all sessions"
            triggerVariant="danger"
            title={`Revoke all ${live.length} session${live.length === 1 ? "" : "s"}?`}
            description="Every app signed in as this user must sign in again. Their next token refresh fails."
            submitLabel="Revoke all"
            pendingLabel="Revoking…"
            danger
            action={revokeAll}
            hidden={{ userId }}
            onDone={done}
          />
        ) : null}
      </div>
      {notice ? <Alert tone="success">{notice}</Alert> : null}
      {query.isError ? <Alert tone="warning">{query.error.message} Showing what was loaded last.</Alert> : null}
      {sessions.length === 0 ? (
        <EmptyState title="No SDK sessions yet">A session starts when an app exchanges a sign-in token for this user.</EmptyState>
      ) : (
        <Table>
          <THead>
            <TR>
              <TH>Installation</TH>
              <TH>Started (first use)</TH>
              <TH>Last refresh (latest use)</TH>
              <TH>State</TH>
              <TH>
                <span className="sr-only">Actions</span>
              </TH>
            </TR>
          </THead>
          <TBody>
            {sessions.map((s) => (
              <TR key={s.id} id={`session-${s.id}`} data-testid="session-row" data-session-id={s.id} data-state={s.state}>
                <TD>
                  <span
                    className="block max-w-[16rem] truncate font-mono text-xs"
                    title={`${s.installationId ?? "no installation id"} · SDK session ${s.id}`}
                    data-testid="installation-id"
                  >
                    {s.installationId ?? <span className="text-slate-500">no installation id</span>}
                  </span>
                  {s.migratedFromKeyId ? (
                    <Badge tone="info" className="mt-1">
                      Migrated from an API key
                    </Badge>
                  ) : null}
                </TD>
                <TD className="text-xs text-slate-600">
                  <span className="block whitespace-nowrap" title={formatUtc(s.createdAt, { seconds: true })}>
                    {formatUtc(s.createdAt)}
                  </span>
                  <ClientUse ip={s.firstIp} userAgent={s.firstUserAgent} testId="session-first-use" />
                </TD>
                <TD className="text-xs text-slate-600">
                  <span
                    className="block whitespace-nowrap"
                    title={s.lastRefreshAt ? formatUtc(s.lastRefreshAt, { seconds: true }) : undefined}
                    suppressHydrationWarning
                  >
                    {s.lastRefreshAt ? relativeTime(s.lastRefreshAt) : "not yet"}
                  </span>
                  {s.lastRefreshAt ? <ClientUse ip={s.lastIp} userAgent={s.lastUserAgent} testId="session-latest-use" /> : null}
                </TD>
                <TD>
                  {stateBadge[s.state]}
                  {s.state === "revoked" && s.revokeReason ? (
                    <span className="block text-xs text-slate-500">{REVOKE_REASONS[s.revokeReason] ?? s.revokeReason}</span>
                  ) : null}
                  {s.state === "active" ? (
                    <span className="block whitespace-nowrap text-xs text-slate-500" title={formatUtc(s.expiresAt)}>
                      until {s.expiresAt.slice(0, 10)}
                    </span>
                  ) : null}
                </TD>
                <TD>
                  {canRevoke && s.state === "active" ? (
                    <ReasonDialog
                      trigger="Revoke"
                      triggerVariant="ghost"
                      triggerLabel={`Revoke the session of ${s.installationId ?? s.id}`}
                      title="Revoke this session?"
                      description={`The app${s.installationId ? ` on installation ${s.installationId}` : ""} is signed out at its next token refresh.`}
                      submitLabel="Revoke session"
                      pendingLabel="Revoking…"
                      danger
                      action={revokeOne}
                      hidden={{ userId, sessionId: s.id }}
                      onDone={done}
                    />
                  ) : null}
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </div>
  );
}
