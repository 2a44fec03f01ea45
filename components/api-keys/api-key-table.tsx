"use client";
import { type ReactNode, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogTrigger } from "@/components/ui/dialog";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { Field, Textarea } from "@/components/ui/input";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ApiKeyView } from "@/lib/api-keys";
import type { ActionResult } from "@/server/actions";

type RevokeAction = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;

export function ApiKeyTable({
  keys,
  revokeAction,
  impact = {},
  allScopes,
}: {
  keys: ApiKeyView[];
  /** Every scope a key can have: a key holding them all is listed as "All scopes". */
  allScopes: string[];
  revokeAction: RevokeAction;
  /** Per key id: what revoking would break (issue 4 adds "N installations still use this key"). */
  impact?: Record<string, ReactNode>;
}) {
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <>
      {notice ? (
        <Alert tone="success" className="mb-4">
          {notice}
        </Alert>
      ) : null}
      <Table>
        <THead>
          <TR>
            <TH>Key</TH>
            <TH>Environment</TH>
            <TH>Scopes</TH>
            <TH>Created · last used</TH>
            <TH>Status</TH>
          </TR>
        </THead>
        <TBody>
          {keys.map((k) => (
            <TR key={k.id} data-testid={`api-key-row-${k.prefix}`}>
              <TD>
                <span className="block font-medium [overflow-wrap:anywhere]">{k.name}</span>
                <span className="block whitespace-nowrap font-mono text-xs text-slate-600">{k.prefix}…</span>
              </TD>
              <TD className="whitespace-nowrap">
                <Badge tone={k.environment === "production" ? "warn" : "neutral"}>{k.environment}</Badge>{" "}
                <span className="text-xs uppercase text-slate-600">{k.region}</span>
              </TD>
              <TD className="max-w-48">
                <span className="flex flex-wrap gap-1" title={k.scopes.join(", ")}>
                  {allScopes.every((s) => k.scopes.includes(s)) ? (
                    <Badge tone="info">All scopes</Badge>
                  ) : (
                    k.scopes.map((s) => (
                      <code key={s} className="rounded bg-slate-100 px-1 text-xs">
                        {s}
                      </code>
                    ))
                  )}
                </span>
              </TD>
              <TD className="text-xs text-slate-600">
                <span className="block whitespace-nowrap">{formatUtc(k.createdAt)}</span>
                <span
                  className="block whitespace-nowrap"
                  title={k.lastUsedAt ? formatUtc(k.lastUsedAt, { seconds: true }) : undefined}
                  data-testid="key-last-used"
                  suppressHydrationWarning
                >
                  used {k.lastUsedAt ? relativeTime(k.lastUsedAt) : "never"}
                </span>
              </TD>
              <TD>
                <div className="flex flex-wrap items-center gap-1">
                  {k.revokedAt ? (
                    <span title={k.revokeReason ? `Reason: ${k.revokeReason}` : undefined}>
                      <Badge tone="bad">Revoked</Badge>
                      <span className="block text-xs text-slate-500">{formatUtc(k.revokedAt)}</span>
                    </span>
                  ) : (
                    <>
                      <Badge tone="good">Active</Badge>
                      <RevokeKeyDialog apiKey={k} action={revokeAction} impact={impact[k.id]} onDone={setNotice} />
                    </>
                  )}
                </div>
              </TD>
            </TR>
          ))}
        </TBody>
      </Table>
    </>
  );
}

function RevokeKeyDialog({ apiKey, action, impact, onDone }: { apiKey: ApiKeyView; action: RevokeAction; impact?: ReactNode; onDone: (m: string) => void }) {
  const [open, setOpen] = useState(false);
  const { state, formAction, pending, onSubmit } = useFormAction(async (prev: ActionResult<string> | null, form: FormData) => {
    const result = await action(prev, form);
    if (result.ok) {
      setOpen(false);
      onDone(result.message ?? "Key revoked.");
    }
    return result;
  });
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant="ghost" size="sm" className="text-red-700" aria-label={`Revoke ${apiKey.name}`}>
          Revoke
        </Button>
      </DialogTrigger>
      <DialogContent
        title={`Revoke “${apiKey.name}”?`}
        description={`Every request with ${apiKey.prefix}… will answer 401 at once. This cannot be undone; create a new key to replace it.`}
      >
        <form action={formAction} onSubmit={onSubmit} className="space-y-4">
          <input type="hidden" name="id" value={apiKey.id} />
          {/* What still depends on this key (installations in API-key mode) goes here. */}
          <div data-slot="revoke-impact">{impact}</div>
          <Field
            label="Reason"
            htmlFor={`revoke-reason-${apiKey.id}`}
            hint="Recorded in the audit log, e.g. “leaked in a CI log”."
            error={state && !state.ok ? state.error : null}
          >
            <Textarea id={`revoke-reason-${apiKey.id}`} name="reason" required maxLength={500} />
          </Field>
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button variant="ghost">Keep the key</Button>
            </DialogClose>
            <Button type="submit" variant="danger" disabled={pending}>
              {pending ? "Revoking…" : "Revoke key"}
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}
