import { Badge } from "@/components/ui/badge";
import type { WebhookEndpointView } from "@/lib/webhooks/endpoints";

export function EndpointStatus({ endpoint: e }: { endpoint: WebhookEndpointView }) {
  if (!e.enabled) return <Badge tone="bad">{e.disabledReason === "failing" ? "disabled: failing for a day" : "disabled"}</Badge>;
  if (e.failingSince) return <Badge tone="warn">failing since {e.failingSince.toISOString().slice(0, 16).replace("T", " ")} UTC</Badge>;
  return <Badge tone="good">enabled</Badge>;
}
