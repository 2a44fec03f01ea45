import { CopyButton } from "@/components/tokens/copy-button";
import { formatUtc } from "@/components/ui/format";
import type { UserView } from "@/lib/users/types";
import { EnvironmentBadge, UserStatusBadge } from "./user-status-badge";

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[9rem_1fr] items-center gap-2 py-1.5">
      <dt className="text-sm text-slate-500">{label}</dt>
      <dd className="min-w-0 text-sm text-slate-900">{children}</dd>
    </div>
  );
}

function Copyable({ value, label }: { value: string; label: string }) {
  return (
    <span className="flex min-w-0 items-center gap-2">
      <code className="truncate font-mono text-xs">{value}</code>
      <CopyButton value={value} label="Copy" aria-label={`Copy ${label}`} className="h-7 px-2 text-xs" />
    </span>
  );
}

export function UserDetails({ user }: { user: UserView }) {
  return (
    <dl className="divide-y divide-slate-100">
      <Row label="User id">
        <Copyable value={user.id} label="user id" />
      </Row>
      <Row label="Client user id">
        <Copyable value={user.clientUserId} label="client user id" />
      </Row>
      <Row label="Name">{user.name ?? <span className="text-slate-500">—</span>}</Row>
      <Row label="Email">{user.email ?? <span className="text-slate-500">—</span>}</Row>
      <Row label="Environment">
        <EnvironmentBadge environment={user.environment} region={user.region} />
      </Row>
      <Row label="Status">
        <span className="flex items-center gap-2">
          <UserStatusBadge status={user.status} />
          {user.disabledAt ? <span className="text-xs text-slate-500">since {formatUtc(user.disabledAt)}</span> : null}
          {user.deletedAt ? <span className="text-xs text-slate-500">on {formatUtc(user.deletedAt)}</span> : null}
        </span>
      </Row>
      <Row label="Created">{formatUtc(user.createdAt)}</Row>
    </dl>
  );
}
