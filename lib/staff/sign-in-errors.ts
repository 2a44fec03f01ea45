/**
 * What the sign-in page may say. A failed sign-in travels to the page as `/login?error=<code>`
 * (next-auth's redirect, or a link anyone can craft), so the page shows only the sentences of known
 * codes — never the parameter's own text. The one code with a parameter is a rate limit's wait,
 * `RateLimited.<which>.<seconds>`, and only its number comes from the URL (capped). Plain module:
 * the page, the login form (a client component) and the domain share it.
 */

export type RateLimitScope = "pair" | "shared" | "account" | "ip";

const SENTENCES: Record<string, string> = {
  CredentialsSignin: "The email or password is not right.",
  MissingCredentials: "Enter your email and password.",
  AccountDisabled: "This account is disabled. Ask an admin to enable it.",
  OidcNoEmail: "Your single sign-on account has no email address; tokendesk needs one.",
  OidcNoRole: "Your single sign-on account is not in a group that tokendesk gives a role to. Ask an admin.",
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

/** The longest wait any sign-in limit imposes (lib/staff/staff.ts): a crafted link cannot claim more. */
const MAX_WAIT_SECONDS = 15 * 60;

/** "3 minutes" / "40 seconds". */
export function waitInWords(seconds: number): string {
  if (seconds >= 90) return `${Math.ceil(seconds / 60)} minutes`;
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

export function rateLimitedCode(which: RateLimitScope, retryAfterSeconds: number): string {
  return `RateLimited.${which}.${Math.max(1, Math.min(MAX_WAIT_SECONDS, Math.ceil(retryAfterSeconds)))}`;
}

export function rateLimitedSentence(which: RateLimitScope, retryAfterSeconds: number): string {
  const wait = `Try again in ${waitInWords(retryAfterSeconds)}`;
  if (which === "ip") return `Too many failed sign-ins from your network. ${wait}.`;
  if (which === "pair") return `Too many failed sign-ins for this account from your network. ${wait}; each further failure makes the wait longer.`;
  return `Too many failed sign-ins for this account. ${wait}; each further failure makes the wait longer.`;
}

const RATE_LIMITED = /^RateLimited\.(pair|shared|account|ip)\.(\d{1,4})$/;

/** The wait a rate-limited code carries, for a Retry-After header; null for any other code. */
export function retryAfterOfCode(code: string): number | null {
  const m = RATE_LIMITED.exec(code);
  return m ? Math.min(MAX_WAIT_SECONDS, Math.max(1, Number(m[2]))) : null;
}

/** The sentence for a code, or null when the code is not one of ours. */
export function describeSignInError(code: string | null | undefined): string | null {
  if (!code) return null;
  if (Object.hasOwn(SENTENCES, code)) return SENTENCES[code]!;
  const m = RATE_LIMITED.exec(code);
  if (m) return rateLimitedSentence(m[1] as RateLimitScope, retryAfterOfCode(code)!);
  return null;
}

export const UNKNOWN_SIGN_IN_ERROR = "Sign-in failed. Try again.";
