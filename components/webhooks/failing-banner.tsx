import { Alert } from "@/components/ui/alert";
import { Link } from "@/components/ui/link";
import type { WebhookEndpointView } from "@/lib/webhooks/endpoints";

const when = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace("T", " ")} UTC` : "—");

/**
 * Endpoints the dispatcher disabled after a day of failures: shown on every console page to those
 * who may read webhooks, until an admin enables (or deletes) them.
 */
export function FailingEndpointsBanner({ endpoints, className }: { endpoints: WebhookEndpointView[]; className?: string }) {
  if (endpoints.length === 0) return null;
  return (
    <Alert
      tone="error"
      className={className}
      title={
        endpoints.length === 1
          ? "A webhook endpoint was disabled after failing for a day"
          : `${endpoints.length} webhook endpoints were disabled after failing for a day`
      }
    >
      <ul className="list-inside list-disc" data-testid="failing-webhooks">
        {endpoints.map((e) => (
          <li key={e.id}>
            <Link href={`/webhooks/${e.id}`} className="font-mono text-xs underline">
              {e.url}
            </Link>{" "}
            ({e.environment}), disabled {when(e.disabledAt)}. Its events wait; fix the receiver, then enable it.
          </li>
        ))}
      </ul>
    </Alert>
  );
}
