import Link from "next/link";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { UserActivity } from "@/lib/users/activity";
import type { UserView } from "@/lib/users/types";
import { EnvironmentBadge, UserStatusBadge } from "./user-status-badge";

function When({ at, never, testId }: { at: Date | null | undefined; never: string; testId: string }) {
  return (
    <TD className="whitespace-nowrap text-xs text-slate-600" data-testid={testId}>
      {at ? (
        <time dateTime={at.toISOString()} title={formatUtc(at, { seconds: true })}>
          {relativeTime(at)}
        </time>
      ) : (
        <span className="text-slate-500">{never}</span>
      )}
    </TD>
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
          <TH>Last sign-in</TH>
          <TH>Last active</TH>
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
            <When at={activity.get(u.id)?.lastSignInAt} never="Never" testId="user-last-sign-in" />
            <When at={activity.get(u.id)?.lastActiveAt} never="—" testId="user-last-active" />
            <TD className="text-xs text-slate-600">{formatUtc(u.createdAt)}</TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
