import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/shell/login-form";
import { config } from "@/lib/config/env";
import { oidcDisplayName } from "@/server/next-auth";
import { safeReturnPath } from "@/server/return-to";
import { currentStaff } from "@/server/staff-session";
import { passkeyOptionsAction, secondStepAction } from "./actions";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

const KNOWN_ERRORS: Record<string, string> = {
  CredentialsSignin: "The email or password is not right.",
  OAuthSignin: "Single sign-on could not start. Try again, or use your password.",
  OAuthCallback: "Single sign-on did not complete. Try again.",
  OidcProfile: "Your identity provider did not say who you are.",
  AccessDenied: "Your account may not use the console.",
  SessionRequired: "Sign in to continue.",
  CsrfInvalid: "The sign-in form had expired or did not come from this console. Sign in again.",
  BadSignInRequest: "The sign-in request could not be read. Use the form below to sign in.",
  SignInFailed: "Sign-in failed on our side; nothing was changed. Try again.",
  SessionEnded: "Your session has ended because your account was changed or disabled. Sign in again to continue.",
  SecondFactorRequired: "This console now requires a second factor. Sign in again to set one up or use it.",
  disabled: "Your account was disabled. Ask an admin to enable it.",
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  // The page the visitor opened before signing in: only this console's own paths (server/return-to.ts).
  const callbackUrl = safeReturnPath(params.callbackUrl, config().publicUrl);
  if (await currentStaff()) redirect(callbackUrl);
  const raw = typeof params.error === "string" ? params.error : null;
  // next-auth passes our own sentences through ?error=; show known codes in words, sentences as-is.
  const error = raw ? (KNOWN_ERRORS[raw] ?? (raw.length < 200 && /\s/.test(raw) ? raw : "Sign-in failed. Try again.")) : null;
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <div className="mb-8 text-center">
          <p className="text-2xl font-semibold tracking-tight">tokendesk</p>
          <p className="mt-1 text-sm text-slate-600">Staff console — sign in to continue</p>
        </div>
        <LoginForm
          initialError={error}
          sso={oidcDisplayName()}
          callbackUrl={callbackUrl}
          actions={{ secondStep: secondStepAction, passkeyOptions: passkeyOptionsAction }}
        />
      </div>
    </main>
  );
}
