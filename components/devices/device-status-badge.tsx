import { Badge } from "@/components/ui/badge";

export function DeviceStatusBadge({ disabled }: { disabled: boolean }) {
  return disabled ? <Badge tone="bad">Disabled</Badge> : <Badge tone="good">Active</Badge>;
}
