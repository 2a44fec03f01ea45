"use client";
import { useState } from "react";
import { Alert, EmptyState } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogTrigger } from "@/components/ui/dialog";
import { formatUtc, relativeTime } from "@/components/ui/format";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { useFormAction } from "@/components/ui/use-form-action";
import type { ActionResult } from "@/server/actions";

type Action = (prev: ActionResult<string> | null, form: FormData) => Promise<ActionResult<string>>;

export interface SigningKeyRow {
  kid: string;
  alg: string;
  status: "current" | "previous" | "retired";
  createdAt: Date;
  retireAfter: Date | null;
}

export function SigningKeys({ keys, rotateAction }: { keys: SigningKeyRow[]; rotateAction: Action }) {
  const [open, setOpen] = useState(false);
  const { state, formAction, pending, onSubmit } = useFormAction(async (prev: ActionResult<string> | null, form: FormData) => {
    const result = await rotateAction(prev, form);
    if (result.ok) setOpen(false);
    return result;
  });
  return (
    <div className="space-y-4">
      {keys.length ? (
        <Table>
          <THead>
            <TR>
              <TH>Key id (kid)</TH>
              <TH>Algorithm</TH>
              <TH>Role</TH>
              <TH>Created</TH>
              <TH>Leaves the JWKS</TH>
            </TR>
          </THead>
          <TBody>
            {keys.map((k) => (
              <TR key={k.kid} data-testid={`signing-key-${k.status}`}>
                <TD className="font-mono text-xs [overflow-wrap:anywhere]">{k.kid}</TD>
                <TD className="text-xs">{k.alg}</TD>
                <TD>
                  {k.status === "current" ? (
                    <Badge tone="good">Signs new tokens</Badge>
                  ) : k.status === "previous" ? (
                    <Badge tone="info">Verifies older tokens</Badge>
                  ) : (
                    <Badge>Retired</Badge>
                  )}
                </TD>
                <TD className="whitespace-nowrap text-xs text-slate-600">{formatUtc(k.createdAt)}</TD>
                <TD className="text-xs text-slate-600" suppressHydrationWarning>
                  {k.status !== "current" && k.retireAfter ? (
                    <>
                      <span className="block whitespace-nowrap">{formatUtc(k.retireAfter)}</span>
                      <span className="block">({relativeTime(k.retireAfter)})</span>
                    </>
                  ) : (
                    "—"
                  )}
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      ) : (
        <EmptyState title="No signing key yet">The first one is created when tokendesk signs its first token, or when you rotate now.</EmptyState>
      )}
      <div aria-live="polite">{state?.ok ? <Alert tone="success">{state.message}</Alert> : null}</div>
      <Dialog open={open} onOpenChange={setOpen}>
        <DialogTrigger asChild>
          <Button variant="secondary">Rotate now</Button>
        </DialogTrigger>
        <DialogContent
          title="Rotate the signing key?"
          description="A new key signs every token from now on. The current key stays in the JWKS until every token it signed has expired, so apps and resource servers keep working."
        >
          <form action={formAction} onSubmit={onSubmit} className="space-y-4">
            <input type="hidden" name="confirm" value="rotate" />
            <p className="text-sm text-slate-700">Rotate when a key may have leaked, or on your regular schedule. The rotation is recorded in the audit log.</p>
            {state && !state.ok ? <Alert tone="error">{state.error}</Alert> : null}
            <div className="flex justify-end gap-2">
              <DialogClose asChild>
                <Button variant="ghost">Cancel</Button>
              </DialogClose>
              <Button type="submit" disabled={pending}>
                {pending ? "Rotating…" : "Rotate signing key"}
              </Button>
            </div>
          </form>
        </DialogContent>
      </Dialog>
    </div>
  );
}
