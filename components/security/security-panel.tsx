"use client";
import { startRegistration } from "@simplewebauthn/browser";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field, Input } from "@/components/ui/input";
import type { SecondFactorSummary } from "@/lib/staff/second-factor";
import type { ActionResult } from "@/server/actions";

type Action<T> = (prev: null, form: FormData) => Promise<ActionResult<T>>;

/** The Security page's server actions (app/(console)/security/actions.ts). */
export interface SecurityActions {
  beginTotp: Action<{ challengeId: string; secret: string; uri: string; qrSvg: string }>;
  confirmTotp: Action<{ recoveryCodes: string[] | null }>;
  removeTotp: Action<null>;
  beginPasskey: Action<{ challengeId: string; options: Parameters<typeof startRegistration>[0]["optionsJSON"] }>;
  finishPasskey: Action<{ recoveryCodes: string[] | null }>;
  removePasskey: Action<null>;
  regenerateRecoveryCodes: Action<string[]>;
}

const form = (values: Record<string, string> = {}) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(values)) f.set(k, v);
  return f;
};

const when = (d: Date | null) => (d ? new Date(d).toLocaleString() : "never");

/** The recovery codes, shown once: the server keeps only their hashes. */
export function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <Alert tone="warning" title="Save your recovery codes now" className="mt-3">
      <p>Each code signs you in once if you lose your phone and passkeys. They are not shown again.</p>
      <ul data-testid="recovery-codes" className="mt-2 grid grid-cols-2 gap-1 font-mono text-sm">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
    </Alert>
  );
}

export function SecurityPanel({
  summary,
  required,
  productionNeedsStrongAuth,
  actions,
}: {
  actions: SecurityActions;
  summary: SecondFactorSummary;
  required: boolean;
  productionNeedsStrongAuth: boolean;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [enrolment, setEnrolment] = useState<{ challengeId: string; secret: string; qrSvg: string } | null>(null);
  const [busy, setBusy] = useState(false);

  /** Runs an action; on success shows its message (and recovery codes if any) and re-reads the page. */
  async function run<T>(call: () => Promise<ActionResult<T>>, after?: (data: T) => void) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const result = await call();
      if (!result.ok) {
        setError(result.error);
        return;
      }
      if (result.message) setNotice(result.message);
      after?.(result.data);
      router.refresh();
    } finally {
      setBusy(false);
    }
  }

  const withCodes = (data: { recoveryCodes: string[] | null }) => {
    if (data.recoveryCodes) setCodes(data.recoveryCodes);
  };

  async function addPasskey(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get("name") ?? "");
    setError(null);
    const begun = await actions.beginPasskey(null, form());
    if (!begun.ok) return setError(begun.error);
    let response: unknown;
    try {
      response = await startRegistration({ optionsJSON: begun.data.options });
    } catch (err) {
      return setError(`Your browser did not create a passkey${err instanceof Error && err.message ? `: ${err.message}` : "."}`);
    }
    await run(() => actions.finishPasskey(null, form({ challengeId: begun.data.challengeId, name, response: JSON.stringify(response) })), withCodes);
  }

  const hasFactor = summary.totp || summary.passkeys.length > 0;
  return (
    <div className="space-y-6">
      {required || productionNeedsStrongAuth ? (
        <Alert tone="info">
          {required
            ? "This deployment requires a second factor for every password sign-in."
            : "Production actions need a session signed in with a second factor (or single sign-on)."}
        </Alert>
      ) : null}
      <div aria-live="polite">
        {error ? <Alert tone="error">{error}</Alert> : null}
        {notice ? <Alert tone="success">{notice}</Alert> : null}
        {codes ? <RecoveryCodes codes={codes} /> : null}
      </div>

      <Card>
        <CardHeader
          title="Authenticator app"
          description="A 6-digit code from an app such as 1Password, Google Authenticator or Authy."
          actions={summary.totp ? <Badge tone="good">On</Badge> : <Badge>Off</Badge>}
        />
        <CardBody>
          {summary.totp ? (
            <Button variant="secondary" disabled={busy} onClick={() => run(() => actions.removeTotp(null, form()))}>
              Remove the authenticator app
            </Button>
          ) : enrolment ? (
            <form
              className="space-y-3"
              onSubmit={(e) => {
                e.preventDefault();
                const code = String(new FormData(e.currentTarget).get("code") ?? "");
                void run(
                  () => actions.confirmTotp(null, form({ challengeId: enrolment.challengeId, code })),
                  (data) => {
                    setEnrolment(null);
                    withCodes(data);
                  },
                );
              }}
            >
              <p className="text-sm text-slate-700">Scan this code with your app, or type the key below into it, then enter the code it shows.</p>
              <div
                className="h-44 w-44 [&>svg]:h-full [&>svg]:w-full"
                role="img"
                aria-label="QR code for your authenticator app"
                // biome-ignore lint/security/noDangerouslySetInnerHtml: an SVG the server drew with qrcode from the otpauth URI
                dangerouslySetInnerHTML={{ __html: enrolment.qrSvg }}
              />
              <p className="text-sm">
                Key:{" "}
                <code data-testid="totp-secret" className="font-mono">
                  {enrolment.secret}
                </code>
              </p>
              <Field label="Code from the app" htmlFor="totp-code">
                <Input id="totp-code" name="code" inputMode="numeric" autoComplete="one-time-code" required className="max-w-40" />
              </Field>
              <Button type="submit" disabled={busy}>
                Turn on
              </Button>
            </form>
          ) : (
            <Button
              disabled={busy}
              onClick={() =>
                run(
                  () => actions.beginTotp(null, form()),
                  (data) => setEnrolment(data),
                )
              }
            >
              Set up an authenticator app
            </Button>
          )}
        </CardBody>
      </Card>

      <Card>
        <CardHeader title="Passkeys" description="A fingerprint, face or security key on this device, bound to this console's address." />
        <CardBody className="space-y-4">
          {summary.passkeys.length ? (
            <ul className="divide-y divide-slate-200" aria-label="Your passkeys">
              {summary.passkeys.map((p) => (
                <li key={p.id} className="flex items-center justify-between gap-3 py-2 text-sm">
                  <span>
                    <span className="font-medium">{p.name}</span>
                    <span className="ml-2 text-slate-500">
                      added {when(p.createdAt)}, last used {when(p.lastUsedAt)}
                    </span>
                  </span>
                  <Button size="sm" variant="secondary" disabled={busy} onClick={() => run(() => actions.removePasskey(null, form({ id: p.id })))}>
                    Remove {p.name}
                  </Button>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-600">No passkeys yet.</p>
          )}
          <form onSubmit={addPasskey} className="flex flex-wrap items-end gap-3">
            <Field label="Passkey name" htmlFor="passkey-name">
              <Input id="passkey-name" name="name" required maxLength={60} defaultValue="This computer" />
            </Field>
            <Button type="submit" disabled={busy}>
              Add a passkey
            </Button>
          </form>
        </CardBody>
      </Card>

      <Card>
        <CardHeader
          title="Recovery codes"
          description="One-time codes for signing in without your app or passkeys. Keep them somewhere safe."
          actions={<Badge tone={summary.recoveryCodesLeft ? "info" : "warn"}>{summary.recoveryCodesLeft} left</Badge>}
        />
        <CardBody>
          <Button
            variant="secondary"
            disabled={busy || !hasFactor}
            onClick={() =>
              run(
                () => actions.regenerateRecoveryCodes(null, form()),
                (data) => setCodes(data),
              )
            }
          >
            {summary.recoveryCodesLeft ? "Replace my recovery codes" : "Generate recovery codes"}
          </Button>
          {!hasFactor ? <p className="mt-2 text-sm text-slate-600">Add an authenticator app or a passkey first.</p> : null}
        </CardBody>
      </Card>
    </div>
  );
}
