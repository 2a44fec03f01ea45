import { actionTone, TONE_DOT } from "@/components/audit/describe";
import { EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { durationInWords, formatUtc } from "@/components/ui/format";
import { Link } from "@/components/ui/link";
import type { TimelineEvent } from "@/lib/users/timeline";

const str = (v: unknown) => (typeof v === "string" && v ? v : null);

/** The event's details in a sentence; never the raw JSON unless nothing better is known. */
function describe(e: TimelineEvent): string | null {
  const d = e.details;
  switch (e.action) {
    case "user.created":
      return str(d.clientUserId) ? `as ${d.clientUserId}` : null;
    case "user.disabled":
      return typeof d.sessionsEnded === "number" ? `${d.sessionsEnded} session${d.sessionsEnded === 1 ? "" : "s"} ended` : null;
    case "user.deleted":
      return typeof d.sessionsEnded === "number" ? `${d.sessionsEnded} session${d.sessionsEnded === 1 ? "" : "s"} ended` : null;
    case "sign_in_token.issued":
      return typeof d.expiresInSeconds === "number" ? `valid for ${durationInWords(d.expiresInSeconds)}` : null;
    case "sign_in_token.redeemed":
    case "sdk_session.started":
    case "sdk_session.revoked":
    case "migration.completed":
      return str(d.installationId) ? `installation ${d.installationId}` : null;
    case "migration.rejected":
      return str(d.reason) ?? str(d.error) ?? null;
    case "refresh_token.reuse_detected":
      return d.why === "replaced"
        ? "a refresh token that a retry had replaced came back; the whole session was revoked"
        : d.why === "successor_used"
          ? "an old refresh token came back after its successor was used; the whole session was revoked"
          : "an old refresh token came back after its grace window; the whole session was revoked";
    default:
      return null;
  }
}

function actorText(e: TimelineEvent): string {
  if (e.actor.type === "staff") return e.actor.name ?? "staff";
  if (e.actor.type === "api_key") return `API key ${e.actor.name ?? e.actor.id ?? ""}`.trim();
  if (e.actor.type === "system") return "tokendesk";
  if (e.actor.type === "user") return "the user's app";
  if (e.actor.type === "anonymous") return "the app";
  return e.actor.name ?? e.actor.type;
}

export function UserTimeline({ events, olderHref, newestHref }: { events: TimelineEvent[]; olderHref: string | null; newestHref: string | null }) {
  if (!events.length) {
    return <EmptyState title={newestHref ? "No older events" : "Nothing has happened to this user yet"} />;
  }
  return (
    <>
      <ol className="relative space-y-4 border-l border-slate-200 pl-5" data-testid="user-timeline">
        {events.map((e) => {
          const tone = actionTone(e.action, e.outcome);
          const sentence = describe(e);
          return (
            <li key={e.id} className="relative" data-testid="timeline-event" data-action={e.action} data-tone={tone}>
              <span aria-hidden className={`absolute -left-[1.65rem] top-1.5 size-2.5 rounded-full ring-4 ring-white ${TONE_DOT[tone]}`} />
              <div className="flex flex-wrap items-baseline gap-x-2">
                <span className="font-medium text-slate-900">{e.title}</span>
                {e.outcome !== "success" ? <Badge tone={e.outcome === "denied" ? "warn" : "bad"}>{e.outcome}</Badge> : null}
                <time className="text-xs text-slate-500" dateTime={e.occurredAt.toISOString()}>
                  {formatUtc(e.occurredAt, { seconds: true })}
                </time>
              </div>
              <p className="text-sm text-slate-600">
                by {actorText(e)}
                {sentence ? ` · ${sentence}` : ""}
              </p>
              {e.reason ? <p className="mt-0.5 text-sm text-slate-800">“{e.reason}”</p> : null}
            </li>
          );
        })}
      </ol>
      {olderHref || newestHref ? (
        <nav aria-label="Timeline pages" className="mt-4 flex gap-2">
          {newestHref ? (
            <Button asChild variant="secondary" size="sm">
              <Link href={newestHref} scroll={false}>
                Newest events
              </Link>
            </Button>
          ) : null}
          {olderHref ? (
            <Button asChild variant="secondary" size="sm">
              <Link href={olderHref} scroll={false}>
                Older events →
              </Link>
            </Button>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}
