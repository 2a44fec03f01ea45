import Link from "next/link";
import { formatUtc } from "@/components/ui/format";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import type { UserView } from "@/lib/users/types";
import { EnvironmentBadge, UserStatusBadge } from "./user-status-badge";

export function UserTable({ users }: { users: UserView[] }) {
  return (
    <Table>
      <THead>
        <TR>
          <TH>Client user id</TH>
          <TH>Name and email</TH>
          <TH>Environment</TH>
          <TH>Status</TH>
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
            <TD className="text-xs text-slate-600">{formatUtc(u.createdAt)}</TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}
