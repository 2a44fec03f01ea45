import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/shell/login-form";
import { config } from "@/lib/config/env";
import { describeSignInError, UNKNOWN_SIGN_IN_ERROR } from "@/lib/staff/sign-in-errors";
import { oidcDisplayName } from "@/server/next-auth";
import { safeReturnPath } from "@/server/return-to";
import { currentStaff } from "@/server/staff-session";
import { passkeyOptionsAction, secondStepAction } from "./actions";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  // The page the visitor opened before signing in: only this console's own paths (server/return-to.ts).
  const callbackUrl = safeReturnPath(params.callbackUrl, config().publicUrl);
  if (await currentStaff()) redirect(callbackUrl);
  const raw = typeof params.error === "string" ? params.error : null;
  // Anyone can link to /login?error=<anything>: only the sentences of known codes are shown.
  const error = raw ? (describeSignInError(raw) ?? UNKNOWN_SIGN_IN_ERROR) : null;
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
