/** What a person sees when a handoff link cannot be used: one plain sentence, nothing to click. */
export type LinkProblemReason = "invalid" | "expired" | "submitted" | "cancelled" | "refused";

const TEXT: Record<LinkProblemReason, { title: string; body: string }> = {
  invalid: {
    title: "This link is not valid",
    body: "It may have been copied incompletely or changed. Ask whoever sent it to you for a new link.",
  },
  refused: {
    title: "This link is not valid",
    body: "It does not point to this verification service, so we will not open it. Ask whoever sent it to you for a new link.",
  },
  expired: {
    title: "This link has expired",
    body: "For your security, verification links only work for a limited time. Ask whoever sent it to you for a new link.",
  },
  submitted: {
    title: "This link is no longer valid",
    body: "It has already been used: the verification was submitted. There is nothing more to do here.",
  },
  cancelled: {
    title: "This link is no longer valid",
    body: "It was cancelled by the team that sent it. Ask them for a new link if you still need to verify.",
  },
};

export function LinkProblem({ reason }: { reason: LinkProblemReason }) {
  const t = TEXT[reason];
  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
      <div className="rounded-xl border border-slate-200 bg-white p-6 shadow-sm" data-testid="link-problem" data-reason={reason}>
        <div aria-hidden className="mb-4 flex h-12 w-12 items-center justify-center rounded-full bg-amber-100 text-2xl text-amber-700">
          !
        </div>
        <h1 className="text-xl font-semibold text-slate-900">{t.title}</h1>
        <p className="mt-2 text-base text-slate-700">{t.body}</p>
      </div>
    </main>
  );
}
