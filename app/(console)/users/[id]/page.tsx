import type { Metadata } from "next";
import { IssueSignInTokenDialog } from "@/components/tokens/issue-sign-in-token-dialog";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, PageHeader } from "@/components/ui/card";
import { Link } from "@/components/ui/link";
import { UserActions } from "@/components/users/user-actions";
import { UserDetails } from "@/components/users/user-details";
import { UserSessions } from "@/components/users/user-sessions";
import { UserSignInTokens } from "@/components/users/user-sign-in-tokens";
import { UserTimeline } from "@/components/users/user-timeline";
import { getDb } from "@/db";
import { isDomainError } from "@/lib/errors";
import { getSettings } from "@/lib/settings";
import { listPendingSignInTokens } from "@/lib/sign-in-tokens";
import { can } from "@/lib/staff/rbac";
import { getUser, listUserSessions, type UserView } from "@/lib/users";
import { getUserTimeline, type TimelinePage } from "@/lib/users/timeline";
import type { SessionJson } from "@/server/routes/console";
import { pendingSignInTokenJson } from "@/server/routes/console";
import { currentStaff, loadForPage, requireStaffPage } from "@/server/staff-session";
import {
  deleteUserAction,
  issueSignInTokenAction,
  revokeAllSessionsAction,
  revokeSessionAction,
  revokeSignInTokenAction,
  setUserDisabledAction,
  updateUserAction,
} from "./actions";

type Params = Promise<{ id: string }>;

/** The tab says whom it is about, so a support agent with several users open can tell them apart. */
export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const actor = await currentStaff();
  if (!actor) return { title: "User" };
  try {
    const user = await getUser(await getDb(), actor, (await params).id);
    return { title: `${user.clientUserId} · Users` };
  } catch {
    return { title: "User" };
  }
}
type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function UserPage({ params, searchParams }: { params: Params; searchParams: Search }) {
  const actor = await requireStaffPage("users:read");
  const { id } = await params;
  const sp = await searchParams;
  const before = typeof sp.before === "string" ? sp.before : null;
  const db = await getDb();

  // A qa member asking for a production user gets the 403 page, not a hint of what is there.
  const user: UserView = await loadForPage(getUser(db, actor, id));

  const [sessions, pendingTokens] = await Promise.all([listUserSessions(db, actor, user.id), listPendingSignInTokens(db, actor, user.id)]);
  let timeline: TimelinePage | null = null;
  let timelineError: string | null = null;
  try {
    timeline = await getUserTimeline(db, actor, user.id, { cursor: before, limit: 50 });
  } catch (err) {
    if (!isDomainError(err)) throw err;
    timelineError = err.message;
  }
  const settings = await getSettings(db, user.environment);
  const live = user.status === "active";
  const mayIssue = can(actor.role, "users:issue_tokens", user.environment);
  const sessionsJson = JSON.parse(JSON.stringify(sessions)) as SessionJson[];

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm">
        <Link href="/users" className="text-indigo-700 hover:underline">
          ← Users
        </Link>
      </nav>
      <PageHeader
        title={user.name ?? user.clientUserId}
        description={user.name ? user.clientUserId : (user.email ?? undefined)}
        actions={
          mayIssue && live ? (
            <>
              <Button asChild variant="secondary">
                <Link href={`/handoffs?userId=${user.id}`}>Start IDV handoff</Link>
              </Button>
              <IssueSignInTokenDialog
                userId={user.id}
                clientUserId={user.clientUserId}
                environment={user.environment}
                defaultLifetimeSeconds={settings.signInTokenTtlSeconds}
                action={issueSignInTokenAction}
                sessionsQueryKey={["user-sessions", user.id]}
              />
            </>
          ) : null
        }
      />
      {mayIssue && user.status === "disabled" ? (
        <Alert tone="warning" className="mb-4">
          This user is disabled: enable them before issuing a sign-in token.
        </Alert>
      ) : null}
      {user.status === "deleted" ? (
        <Alert tone="error" className="mb-4">
          This user was deleted. Their history stays below; nothing can be done for them any more.
        </Alert>
      ) : null}
      <div className="grid gap-6 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="space-y-6">
          <Card>
            <CardHeader
              title="Details"
              actions={
                <UserActions
                  user={{ id: user.id, clientUserId: user.clientUserId, name: user.name, email: user.email, status: user.status }}
                  canEdit={can(actor.role, "users:write", user.environment)}
                  canDisable={can(actor.role, "users:disable", user.environment)}
                  canDelete={can(actor.role, "users:delete", user.environment)}
                  update={updateUserAction}
                  setDisabled={setUserDisabledAction}
                  remove={deleteUserAction}
                />
              }
            />
            <CardBody>
              <UserDetails user={user} />
            </CardBody>
          </Card>
          <Card>
            <CardHeader title="SDK sessions" description="Each app installation signed in as this user." />
            <CardBody>
              <UserSessions
                userId={user.id}
                initial={sessionsJson}
                canRevoke={can(actor.role, "users:revoke_sessions", user.environment) && user.status !== "deleted"}
                revokeOne={revokeSessionAction}
                revokeAll={revokeAllSessionsAction}
              />
            </CardBody>
          </Card>
          <Card>
            <CardHeader title="Pending sign-in tokens" description="Issued to this user and not yet used, revoked or expired." />
            <CardBody>
              <UserSignInTokens
                userId={user.id}
                initial={pendingTokens.map(pendingSignInTokenJson)}
                canRevoke={can(actor.role, "users:revoke_sessions", user.environment) && user.status !== "deleted"}
                revoke={revokeSignInTokenAction}
              />
            </CardBody>
          </Card>
        </div>
        <Card>
          <CardHeader title="Timeline" description="Everything that happened to this user, newest first." />
          <CardBody>
            {timelineError ? (
              <Alert tone="error">
                {timelineError}{" "}
                <Link className="underline" href={`/users/${user.id}`}>
                  Show the newest events
                </Link>
              </Alert>
            ) : (
              <UserTimeline
                events={timeline!.events}
                olderHref={timeline!.nextCursor ? `/users/${user.id}?before=${encodeURIComponent(timeline!.nextCursor)}` : null}
                newestHref={before ? `/users/${user.id}` : null}
              />
            )}
          </CardBody>
        </Card>
      </div>
    </>
  );
}
