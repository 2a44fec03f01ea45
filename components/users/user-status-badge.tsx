import { Badge } from "@/components/ui/badge";
import type { UserStatus } from "@/lib/users/types";

export function UserStatusBadge({ status }: { status: UserStatus }) {
  if (status === "active") return <Badge tone="good">Active</Badge>;
  if (status === "disabled") return <Badge tone="warn">Disabled</Badge>;
  return <Badge tone="bad">Deleted</Badge>;
}

export function EnvironmentBadge({ environment, region }: { environment: string; region?: string }) {
  return (
    <span className="inline-flex items-center gap-1 whitespace-nowrap">
      <Badge tone={environment === "production" ? "warn" : "neutral"}>{environment}</Badge>
      {region ? <span className="text-xs uppercase text-slate-600">{region}</span> : null}
    </span>
  );
}
