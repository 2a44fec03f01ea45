"use client";
import { startAuthentication } from "@simplewebauthn/browser";
import { useRouter } from "next/navigation";
import { signIn } from "next-auth/react";
import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/input";
import { ticketFromSignInError } from "@/lib/staff/second-step-ticket";
import { describeSignInError, UNKNOWN_SIGN_IN_ERROR } from "@/lib/staff/sign-in-errors";

type Method = "totp" | "passkey" | "recovery_code";

export interface SecondStep {
  ok: boolean;
  message?: string;
  email?: string;
  methods?: Method[];
  enrol?: { secret: string; uri: string } | null;
  qrSvg?: string | null;
}

export interface LoginActions {
  secondStep: (ticket: string) => Promise<SecondStep>;
  passkeyOptions: (ticket: string) => Promise<Parameters<typeof startAuthentication>[0]["optionsJSON"] | null>;
}

/**
 * Staff sign-in: email and password, then — for members with a second factor, or who must enrol
 * one — a second step holding only a ticket. There is no session until that step passes.
 */
export function LoginForm({
  initialError,
  sso,
  actions,
  callbackUrl = "/",
}: {
  initialError: string | null;
  sso: string | null;
  actions: LoginActions;
  /** Where to go once signed in: a path of this console, checked by the page (server/return-to.ts). */
  callbackUrl?: string;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(initialError);
  const [pending, setPending] = useState(false);
  const [ticket, setTicket] = useState<string | null>(null);
  const [step, setStep] = useState<SecondStep | null>(null);
  const [method, setMethod] = useState<Method>("totp");

  const done = () => {
    router.replace(callbackUrl);
    router.refresh();
  };

  async function onPassword(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setPending(true);
    setError(null);
    const res = await signIn("credentials", {
      redirect: false,
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
    });
    if (res?.ok && !res.error) return done();
    const next = ticketFromSignInError(res?.error);
    if (next) {
      const info = await actions.secondStep(next);
      setPending(false);
      if (!info.ok) return setError(info.message ?? "Sign in again.");
      setTicket(next);
      setStep(info);
      setMethod(info.methods?.[0] ?? "totp");
      return;
    }
    setPending(false);
    // next-auth hands back the code the sign-in failed with (lib/staff/sign-in-errors.ts).
    setError(describeSignInError(res?.error) ?? UNKNOWN_SIGN_IN_ERROR);
  }

  async function finish(proof: Record<string, string>) {
    if (!ticket) return;
    setPending(true);
    setError(null);
    const res = await signIn("credentials", { redirect: false, ticket, ...proof });
    if (res?.ok && !res.error) return done();
    setPending(false);
    // The second step answers this form's own request with a sentence (not a code: it never travels
    // through a link to /login).
    const message = res?.error && res.error !== "CredentialsSignin" ? (describeSignInError(res.error) ?? res.error) : "That did not work. Try again.";
    setError(message);
    // A spent or expired ticket cannot be retried: back to the password.
    if (/Sign in again\.$/.test(message)) {
      setTicket(null);
      setStep(null);
    }
  }

  async function withPasskey() {
    if (!ticket) return;
    setError(null);
    const options = await actions.passkeyOptions(ticket);
    if (!options) return setError("This sign-in took too long or had too many tries. Sign in again.");
    try {
      const response = await startAuthentication({ optionsJSON: options });
      await finish({ passkey: JSON.stringify(response) });
    } catch (err) {
      setError(`Your browser did not use a passkey${err instanceof Error && err.message ? `: ${err.message}` : "."}`);
    }
  }

  if (ticket && step) {
    const methods = step.methods ?? [];
    return (
      <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <form
          className="space-y-4"
          noValidate
          aria-label="Second step"
          onSubmit={(e) => {
            e.preventDefault();
            const value = String(new FormData(e.currentTarget).get("code") ?? "");
            void finish(method === "recovery_code" ? { recoveryCode: value } : { code: value });
          }}
        >
          {error ? <Alert tone="error">{error}</Alert> : null}
          {step.enrol ? (
            <>
              <p className="text-sm text-slate-700">
                This console requires a second factor. Scan the code with an authenticator app (or type the key), then enter the code it shows.
              </p>
              <div
                className="mx-auto h-44 w-44 [&>svg]:h-full [&>svg]:w-full"
                role="img"
                aria-label="QR code for your authenticator app"
                // biome-ignore lint/security/noDangerouslySetInnerHtml: an SVG the server drew with qrcode from the otpauth URI
                dangerouslySetInnerHTML={{ __html: step.qrSvg ?? "" }}
              />
              <p className="text-sm">
                Key:{" "}
                <code data-testid="totp-secret" className="font-mono">
                  {step.enrol.secret}
                </code>
              </p>
            </>
          ) : (
            <p className="text-sm text-slate-700">Signing in as {step.email}. Confirm it is you.</p>
          )}
          {method === "passkey" ? null : (
            <Field label={method === "recovery_code" ? "Recovery code" : "Code from your authenticator app"} htmlFor="code">
              <Input
                id="code"
                name="code"
                autoComplete="one-time-code"
                inputMode={method === "recovery_code" ? "text" : "numeric"}
                required
                autoFocus
                key={method}
              />
            </Field>
          )}
          {method === "passkey" ? (
            <Button className="w-full" disabled={pending} onClick={withPasskey}>
              Use your passkey
            </Button>
          ) : (
            <Button type="submit" className="w-full" disabled={pending}>
              {pending ? "Checking…" : "Continue"}
            </Button>
          )}
          <div className="flex flex-wrap gap-2 text-sm">
            {methods
              .filter((m) => m !== method)
              .map((m) => (
                <Button key={m} variant="link" size="sm" onClick={() => setMethod(m)}>
                  {m === "passkey" ? "Use a passkey" : m === "recovery_code" ? "Use a recovery code" : "Use your authenticator app"}
                </Button>
              ))}
          </div>
        </form>
      </div>
    );
  }

  return (
    <div className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <form onSubmit={onPassword} className="space-y-4" noValidate>
        {error ? <Alert tone="error">{error}</Alert> : null}
        <Field label="Email" htmlFor="email">
          <Input id="email" name="email" type="email" autoComplete="username" required autoFocus />
        </Field>
        <Field label="Password" htmlFor="password">
          <Input id="password" name="password" type="password" autoComplete="current-password" required />
        </Field>
        <Button type="submit" className="w-full" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </Button>
      </form>
      {sso ? (
        <>
          <div className="my-4 flex items-center gap-3 text-xs text-slate-500">
            <span className="h-px flex-1 bg-slate-200" />
            or
            <span className="h-px flex-1 bg-slate-200" />
          </div>
          <Button variant="secondary" className="w-full" onClick={() => signIn("oidc", { callbackUrl })}>
            Sign in with {sso}
          </Button>
        </>
      ) : null}
    </div>
  );
}
