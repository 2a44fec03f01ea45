"use client";
import { useEffect, useRef, useState } from "react";
import type { IssuedHandoff } from "@/app/(console)/handoffs/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field, Input, Select, Textarea } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import { UserPicker } from "@/components/users/user-picker";
import type { ActionResult } from "@/server/actions";
import { HandoffLive } from "./handoff-live";

type IssueAction = (prev: ActionResult<IssuedHandoff> | null, form: FormData) => Promise<ActionResult<IssuedHandoff>>;

const LIFETIMES = [
  { value: 600, label: "10 minutes" },
  { value: 1800, label: "30 minutes" },
  { value: 3600, label: "1 hour" },
  { value: 14_400, label: "4 hours" },
  { value: 86_400, label: "24 hours" },
];

/** "Issue IDV handoff": who, which workflow, how long, and why; then the live handoff. */
export function IssueHandoffForm({
  action,
  workflows,
  environments,
  initialUserId,
}: {
  action: IssueAction;
  workflows: Array<{ id: string; name: string }>;
  environments: string[];
  /** From /handoffs?userId=…: a user page can link here with the user filled in. */
  initialUserId?: string;
}) {
  const { state, formAction, pending, onSubmit } = useFormAction(action);
  const [who, setWho] = useState<"external" | "user">(initialUserId ? "user" : "external");
  // Controlled fields: React resets uncontrolled ones after every action, which would wipe what
  // support typed when the server refuses (say, a missing reason).
  const [fields, setFields] = useState({
    externalUserId: "",
    userId: initialUserId ?? "",
    environment: environments[0] ?? "sandbox",
    workflowId: workflows[0]?.id ?? "",
    ttl: "3600",
    reason: "",
  });
  const bind = (name: keyof typeof fields) => ({
    value: fields[name],
    onChange: (e: { target: { value: string } }) => setFields((f) => ({ ...f, [name]: e.target.value })),
  });
  // The issued handoff stays in place of the form until support dismisses it: a form ready for the
  // next person right under a fresh QR code invites issuing the same handoff twice.
  const [dismissed, setDismissed] = useState<string | null>(null);
  const issued = state?.ok && state.data.sessionId !== dismissed ? state : null;
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const firstField = useRef<HTMLInputElement>(null);
  const issuedId = issued?.data.sessionId;
  useEffect(() => {
    if (!issuedId) return;
    // The result is below the fold on a laptop: bring it (QR code included) into view and move focus there.
    resultHeading.current?.focus({ preventScroll: true });
    resultHeading.current?.closest("section")?.scrollIntoView({ block: "start", behavior: "auto" });
  }, [issuedId]);
  const issueAnother = () => {
    if (!state?.ok) return;
    // Ready for the next person, keeping workflow, lifetime and environment.
    setFields((f) => ({ ...f, externalUserId: "", userId: "", reason: "" }));
    setDismissed(state.data.sessionId);
    requestAnimationFrame(() => firstField.current?.focus());
  };
  const err = state && !state.ok ? state : null;
  const fieldError = (name: string) => (err?.field === name ? err.error : null);
  if (issued) {
    return (
      <section
        aria-labelledby="handoff-issued-title"
        className="scroll-mt-4 rounded-lg border border-indigo-200 bg-indigo-50/40 p-4"
        data-testid="handoff-issued"
      >
        <div className="mb-3 flex flex-wrap items-start justify-between gap-3">
          <div>
            <h3 id="handoff-issued-title" ref={resultHeading} tabIndex={-1} className="text-base font-semibold text-slate-900 focus:outline-none">
              Handoff issued
            </h3>
            {issued.message ? <p className="text-sm text-indigo-900">{issued.message}</p> : null}
          </div>
          <Button variant="secondary" onClick={issueAnother}>
            Issue another handoff
          </Button>
        </div>
        <HandoffLive key={issued.data.sessionId} handoff={issued.data} />
      </section>
    );
  }
  return (
    <div className="space-y-6">
      <form action={formAction} onSubmit={onSubmit} aria-label="Issue IDV handoff" className="grid gap-4 md:grid-cols-2">
        <fieldset className="md:col-span-2">
          <legend className="mb-1 text-sm font-medium text-slate-700">For</legend>
          <div className="flex gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" name="who" value="external" checked={who === "external"} onChange={() => setWho("external")} /> An external user id
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name="who" value="user" checked={who === "user"} onChange={() => setWho("user")} /> A tokendesk user
            </label>
          </div>
        </fieldset>
        {who === "external" ? (
          <>
            <Field label="External user id" htmlFor="externalUserId" hint="Your system's id for the person" error={fieldError("externalUserId")}>
              <Input ref={firstField} id="externalUserId" name="externalUserId" required maxLength={200} autoComplete="off" {...bind("externalUserId")} />
            </Field>
            <Field label="Environment" htmlFor="environment" error={fieldError("environment")}>
              <Select id="environment" name="environment" {...bind("environment")} options={environments} />
            </Field>
          </>
        ) : (
          <Field
            label="User"
            htmlFor="userId"
            hint="Search by name, email or id; the user's environment and region apply"
            error={fieldError("userId")}
            className="md:col-span-2"
          >
            <UserPicker
              id="userId"
              name="userId"
              value={fields.userId}
              onChange={(userId) => setFields((f) => ({ ...f, userId }))}
              invalid={Boolean(fieldError("userId"))}
            />
          </Field>
        )}
        <Field label="Workflow" htmlFor="workflowId" error={fieldError("workflowId")}>
          <Select id="workflowId" name="workflowId" {...bind("workflowId")}>
            {workflows.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Lifetime" htmlFor="ttl" error={fieldError("ttl")}>
          <Select id="ttl" name="ttl" {...bind("ttl")}>
            {LIFETIMES.map((l) => (
              <option key={l.value} value={l.value}>
                {l.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Reason" htmlFor="reason" hint="Recorded in the audit log" error={fieldError("reason")} className="md:col-span-2">
          <Textarea id="reason" name="reason" required maxLength={500} placeholder="e.g. customer on the phone, ticket #1234" {...bind("reason")} />
        </Field>
        <div className="md:col-span-2">
          <Button type="submit" disabled={pending || workflows.length === 0}>
            {pending ? "Issuing…" : "Issue handoff"}
          </Button>
        </div>
        <div aria-live="polite" className="md:col-span-2">
          {err && !err.field ? <Alert tone="error">{err.error}</Alert> : null}
        </div>
      </form>
    </div>
  );
}
