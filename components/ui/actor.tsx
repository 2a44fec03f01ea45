/**
 * Who did something, as people say it (issue 14, point 6): a staff member's name, an API key's
 * name — never "staff 01a23010-…". The id and the second line (email, key prefix) are on hover,
 * and `showId` prints the id beside the name for copying.
 */
export interface ActorLike {
  type: string;
  id: string | null;
  /** From lib/audit/names: null when the id is no longer known (a removed member, a deleted key). */
  name?: string | null;
  detail?: string | null;
}

export function describeActor(a: ActorLike): { text: string; title: string | undefined } {
  const who =
    a.name ??
    (a.type === "api_key" ? "a deleted API key" : a.type === "staff" ? "a former staff member" : a.type === "system" ? "tokendesk (automatic)" : a.type);
  const kind = a.type === "api_key" && a.name ? "API key " : "";
  return { text: `${kind}${who}`, title: [a.detail, a.id].filter(Boolean).join(" · ") || undefined };
}

export function ActorLabel({ actor, showId = false, testId }: { actor: ActorLike; showId?: boolean; testId?: string }) {
  const { text, title } = describeActor(actor);
  return (
    <span data-testid={testId} data-actor-id={actor.id ?? undefined}>
      <span title={title}>{text}</span>
      {showId && actor.detail ? <span className="block text-xs text-slate-600">{actor.detail}</span> : null}
      {showId && actor.id ? <span className="block select-all font-mono text-xs text-slate-500 [overflow-wrap:anywhere]">{actor.id}</span> : null}
    </span>
  );
}
