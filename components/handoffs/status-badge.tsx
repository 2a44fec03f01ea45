import { Badge } from "@/components/ui/badge";

const TONES = { created: "info", in_progress: "warn", submitted: "good", expired: "neutral", cancelled: "bad" } as const;
const LABELS: Record<string, string> = { created: "created", in_progress: "in progress", submitted: "submitted", expired: "expired", cancelled: "cancelled" };

export function HandoffStatusBadge({ status, ...rest }: { status: string } & React.HTMLAttributes<HTMLSpanElement>) {
  return (
    <Badge tone={TONES[status as keyof typeof TONES] ?? "neutral"} data-status={status} {...rest}>
      {LABELS[status] ?? status}
    </Badge>
  );
}
