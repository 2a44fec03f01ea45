"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import type { IssuedTokenForConsole as IssuedToken } from "@/app/(console)/users/[id]/actions";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog, DialogClose, DialogContent, DialogTrigger, useCloseGuard } from "@/components/ui/dialog";
import { durationInWords, formatTimeOfDay } from "@/components/ui/format";
import { Field, Input, Select, Textarea } from "@/components/ui/input";
import { useFormAction } from "@/components/ui/use-form-action";
import { formatClock, useSecondsLeft } from "@/components/ui/use-seconds-left";
import { signInTokensQueryKey } from "@/components/users/user-sign-in-tokens";
import type { ActionResult } from "@/server/actions";
import type { SignInTokenStatusJson } from "@/server/routes/console";
import { CopyButton } from "./copy-button";

type IssueAction = (prev: ActionResult<IssuedToken> | null, form: FormData) => Promise<ActionResult<IssuedToken>>;

const LIFETIMES = [300, 600, 3600, 86_400];

/**
 * Issue a sign-in token for one user: reason and lifetime, then the token shown once (copy + QR),
 * a live countdown and the live redeemed/expired state. When the app redeems it, the user page's
 * session list (`sessionsQueryKey`) is refetched and the server-rendered timeline refreshed.
 */
interface IssueProps {
  userId: string;
  clientUserId: string;
  environment: string;
  defaultLifetimeSeconds: number;
  action: IssueAction;
  sessionsQueryKey: readonly unknown[];
}

export function IssueSignInTokenDialog(props: IssueProps) {
  const [open, setOpen] = useState(false);
  const [attempt, setAttempt] = useState(0);
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (!o) setAttempt((a) => a + 1); // the next opening starts blank: a token is shown once
      }}
    >
      <DialogTrigger asChild>
        <Button>Issue sign-in token</Button>
      </DialogTrigger>
      <IssueBody key={attempt} {...props} />
    </Dialog>
  );
}

function IssueBody({ userId, clientUserId, environment, defaultLifetimeSeconds, action, sessionsQueryKey }: IssueProps) {
  const { state, formAction, pending, onSubmit } = useFormAction(action);
  const lifetimes = LIFETIMES.includes(defaultLifetimeSeconds) ? LIFETIMES : [...LIFETIMES, defaultLifetimeSeconds].sort((a, b) => a - b);

  // One dialog box for both steps: swapping the box would hand focus back to the trigger behind the
  // overlay (Radix returns focus when a content unmounts), and the token would open unfocused.
  if (state?.ok) {
    return (
      <DialogContent
        title={`Sign-in token for ${clientUserId}`}
        description="Shown once: copy it or let the person scan it now. You won't see it again."
        className="w-[min(40rem,calc(100vw-2rem))]"
      >
        <IssuedTokenView issued={state.data} sessionsQueryKey={sessionsQueryKey} />
      </DialogContent>
    );
  }

  return (
    <DialogContent
      title={`Issue a sign-in token for ${clientUserId}`}
      description={`The app exchanges it once for a session as this user (${environment}). Anyone holding it can sign in as them until it expires, so hand it only to the person you are helping.`}
    >
      <form action={formAction} onSubmit={onSubmit} className="space-y-4" aria-label="Issue a sign-in token">
        <input type="hidden" name="userId" value={userId} />
        <Field
          label="Reason"
          htmlFor="issue-reason"
          hint="Recorded in the audit log, e.g. “ticket #4411: user locked out after phone change”."
          error={state && !state.ok && (state.field === "reason" || !state.field) ? state.error : null}
        >
          <Textarea id="issue-reason" name="reason" required maxLength={500} autoFocus />
        </Field>
        <Field label="Valid for" htmlFor="issue-lifetime" error={state && !state.ok && state.field && state.field !== "reason" ? state.error : null}>
          <Select id="issue-lifetime" name="expiresInSeconds" defaultValue={String(defaultLifetimeSeconds)}>
            {lifetimes.map((s) => (
              <option key={s} value={s}>
                {durationInWords(s)}
                {s === defaultLifetimeSeconds ? " (default)" : ""}
              </option>
            ))}
          </Select>
        </Field>
        <div className="flex justify-end gap-2">
          <DialogClose asChild>
            <Button variant="ghost">Cancel</Button>
          </DialogClose>
          <Button type="submit" disabled={pending}>
            {pending ? "Issuing…" : "Issue token"}
          </Button>
        </div>
      </form>
    </DialogContent>
  );
}

async function fetchStatus(tokenId: string): Promise<SignInTokenStatusJson> {
  const res = await fetch(`/api/console/sign-in-tokens/${tokenId}`, { cache: "no-store", headers: { accept: "application/json" } });
  const body = (await res.json().catch(() => null)) as (SignInTokenStatusJson & { error?: { message: string } }) | null;
  if (!res.ok || !body || body.error) throw new Error(body?.error?.message ?? `The token's state could not be read (HTTP ${res.status}).`);
  return body;
}

/** Seconds left, ticking once a second; never negative. */

function IssuedTokenView({ issued, sessionsQueryKey }: { issued: IssuedToken; sessionsQueryKey: readonly unknown[] }) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const secondsLeft = useSecondsLeft(issued.expiresAt);
  const status = useQuery({
    queryKey: ["sign-in-token", issued.tokenId],
    queryFn: () => fetchStatus(issued.tokenId),
    // Poll while the token can still be redeemed; stop once it is settled either way.
    refetchInterval: (q) => (q.state.data && q.state.data.state !== "pending" ? false : 2000),
    refetchIntervalInBackground: true,
  });
  const state =
    status.data?.state === "redeemed" || status.data?.state === "revoked"
      ? status.data.state
      : secondsLeft === 0 || status.data?.state === "expired"
        ? "expired"
        : "pending";

  // The new token is in the page's list of pending tokens at once.
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: signInTokensQueryKey(issued.userId) });
  }, [queryClient, issued.userId]);

  // The moment the app signs in, the new session appears on the user page without a reload (and
  // the token leaves the pending list).
  const announced = useRef(false);
  useEffect(() => {
    if (state === "redeemed" && !announced.current) {
      announced.current = true;
      void queryClient.invalidateQueries({ queryKey: sessionsQueryKey });
      void queryClient.invalidateQueries({ queryKey: signInTokensQueryKey(issued.userId) });
      router.refresh();
    }
  }, [state, queryClient, router, sessionsQueryKey, issued.userId]);

  // While the token can still be used, Escape or a click outside asks before it is thrown away.
  useCloseGuard(
    state === "pending"
      ? {
          question: "Close without the token?",
          detail: "It is shown only once. If the person has not scanned or copied it yet, you would have to issue a new one.",
          leaveLabel: "Close, I don't need it",
          stayLabel: "Keep it open",
        }
      : null,
  );

  return (
    <div className="space-y-4" data-testid="issued-sign-in-token">
      <div className="grid gap-4 sm:grid-cols-[1fr_auto]">
        <div className="min-w-0 space-y-3">
          <Field label="Sign-in token" htmlFor="issued-token">
            <Input
              id="issued-token"
              readOnly
              value={issued.token}
              className="font-mono text-xs"
              data-testid="sign-in-token-value"
              onFocus={(e) => e.currentTarget.select()}
              autoFocus
            />
          </Field>
          <CopyButton value={issued.token} label="Copy token" />
          <div role="timer" aria-live="off" className="text-sm" data-testid="sign-in-token-countdown">
            {state === "pending" ? (
              <>
                Expires in <span className="font-mono font-semibold tabular-nums">{secondsLeft === null ? "…" : formatClock(secondsLeft)}</span>
                <span className="text-slate-500"> ({formatTimeOfDay(issued.expiresAt)})</span>
              </>
            ) : state === "expired" ? (
              <span className="text-slate-600">Expired at {formatTimeOfDay(issued.expiresAt)}</span>
            ) : state === "revoked" ? (
              <span className="text-slate-600">Revoked; it cannot be used.</span>
            ) : (
              <span className="text-slate-600">Used; it cannot be used again.</span>
            )}
          </div>
        </div>
        <figure className="mx-auto w-44">
          <div
            className="aspect-square w-44 rounded border border-slate-200 bg-white [&>svg]:h-full [&>svg]:w-full"
            role="img"
            aria-label="QR code of the sign-in token"
            data-testid="sign-in-token-qr"
            // biome-ignore lint/security/noDangerouslySetInnerHtml: SVG markup our server generated with the qrcode package, no user input
            dangerouslySetInnerHTML={{ __html: issued.qrSvg }}
          />
          <figcaption className="mt-1 text-center text-xs text-slate-500">Scan with the app</figcaption>
        </figure>
      </div>
      <div aria-live="polite" data-testid="sign-in-token-state" data-state={state}>
        {state === "pending" ? (
          <Alert tone="info" title="Waiting for the app to sign in…">
            This updates by itself when the app exchanges the token.
          </Alert>
        ) : state === "redeemed" ? (
          <Alert
            tone="success"
            title={`Redeemed at ${status.data?.redeemedAt ? formatTimeOfDay(status.data.redeemedAt) : "—"}${status.data?.installationId ? ` by installation ${status.data.installationId}` : ""}`}
          >
            The new session is in the list on this page.
          </Alert>
        ) : state === "revoked" ? (
          <Alert tone="warning" title="Revoked">
            This token was taken back before the app used it.
          </Alert>
        ) : (
          <Alert tone="warning" title="Expired">
            The app did not use it in time. Issue a new token if they still need one.
          </Alert>
        )}
        {status.isError ? <p className="mt-2 text-xs text-amber-700">{status.error.message} Retrying…</p> : null}
      </div>
      <div className="flex justify-end">
        <DialogClose asChild>
          <Button variant={state === "pending" ? "secondary" : "primary"}>Done</Button>
        </DialogClose>
      </div>
    </div>
  );
}
