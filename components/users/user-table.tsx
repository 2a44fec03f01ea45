import { formatUtc, relativeTime } from "@/components/ui/format";
import { Link } from "@/components/ui/link";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { UserActivity } from "@/lib/users/activity";
import type { UserView } from "@/lib/users/types";
import { EnvironmentBadge, UserStatusBadge } from "./user-status-badge";

function When({ label, at, testId }: { label: string; at: Date; testId: string }) {
  return (
    <span className="block" data-testid={testId}>
      {label}{" "}
      <time dateTime={at.toISOString()} title={formatUtc(at, { seconds: true })}>
        {relativeTime(at)}
      </time>
    </span>
  );
}

/**
 * A page of users. Last sign-in and last active come from their SDK sessions (lib/users/activity.ts):
 * the newest session's start, and the latest start or token refresh of any session.
 */
export function UserTable({ users, activity = new Map() }: { users: UserView[]; activity?: Map<string, UserActivity> }) {
  return (
    <Table>
      <THead>
        <TR>
          <TH>Client user id</TH>
          <TH>Name and email</TH>
          <TH>Environment</TH>
          <TH>Status</TH>
          <TH>Last sign-in / active</TH>
          <TH>Created</TH>
        </TR>
      </THead>
      <TBody>
        {users.map((u) => (
          <TR key={u.id} className="hover:bg-slate-50" data-testid="user-row">
            <TD>
              <Link href={`/users/${u.id}`} className="font-medium text-indigo-700 hover:underline">
                {u.clientUserId}
              </Link>
              <span className="block max-w-[10rem] truncate font-mono text-xs text-slate-500" title={u.id}>
                {u.id}
              </span>
            </TD>
            <TD>
              <span className="block">{u.name ?? <span className="text-slate-500">No name</span>}</span>
              <span className="block text-xs text-slate-600 [overflow-wrap:anywhere]">{u.email ?? ""}</span>
            </TD>
            <TD>
              <EnvironmentBadge environment={u.environment} region={u.region} />
            </TD>
            <TD>
              <UserStatusBadge status={u.status} />
            </TD>
            <TD className="text-xs text-slate-600">
              {activity.get(u.id)?.lastSignInAt ? (
                <>
                  <When label="Signed in" at={activity.get(u.id)!.lastSignInAt!} testId="user-last-sign-in" />
                  <When label="Active" at={activity.get(u.id)!.lastActiveAt ?? activity.get(u.id)!.lastSignInAt!} testId="user-last-active" />
                </>
              ) : (
                <span className="text-slate-500" data-testid="user-last-sign-in">
                  Never signed in
                </span>
              )}
            </TD>
            <TD className="text-xs text-slate-600">{formatUtc(u.createdAt)}</TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
