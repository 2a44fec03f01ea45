import { Link } from "@/components/ui/link";
import type { HandoffPerson } from "@/lib/idv/console";

/** What a handoff's person is called: the user's name, else client user id, else email. */
export function personText(h: { externalUserId: string | null; userId: string | null; person: HandoffPerson | null }): string {
  if (h.person) return h.person.name ?? h.person.clientUserId ?? h.person.email ?? h.userId ?? "";
  return h.externalUserId ?? (h.userId ? "a deleted user" : "unknown person");
}

/**
 * Who a handoff is for (issue 14, point 6): a tokendesk user by name, linked to their page, with the
 * client user id below and the user id on hover; an external user id as given.
 */
export function HandoffPersonLabel({ h }: { h: { externalUserId: string | null; userId: string | null; person: HandoffPerson | null } }) {
  if (!h.person || !h.userId) {
    return (
      <span className="font-mono text-xs [overflow-wrap:anywhere]" title={h.userId ?? undefined} data-testid="handoff-person">
        {personText(h)}
      </span>
    );
  }
  const title = [h.person.clientUserId, h.person.email, h.userId].filter(Boolean).join(" · ");
  return (
    <span data-testid="handoff-person" data-user-id={h.userId}>
      <Link href={`/users/${h.userId}`} className="font-medium text-indigo-700 hover:underline" title={title}>
        {personText(h)}
      </Link>
      {h.person.name ? <span className="block font-mono text-xs text-slate-600 [overflow-wrap:anywhere]">{h.person.clientUserId}</span> : null}
    </span>
  );
}
