import "server-only";
import { headers } from "next/headers";
/**
 * next-auth (v4) configuration: the credentials provider (argon2id passwords) always, and an OIDC
 * provider when OIDC_* is configured. Sessions are signed JWT cookies holding only the staff id,
 * a session version and how the member signed in (amr: password, second factor, SSO); every request re-reads the staff row (see staff-session.ts), so a disabled member or
 * a changed role takes effect on the next request, on every instance.
 */
import NextAuth, { type AuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import type { OAuthConfig } from "next-auth/providers/oauth";
import { getDb } from "@/db";
import { config } from "@/lib/config/env";
import { derivedKey } from "@/lib/crypto/keys";
import { log } from "@/lib/log";
import { type AuthMethod, completeSecondStep } from "@/lib/staff/second-factor";
import { SECOND_STEP_PREFIX } from "@/lib/staff/second-step-ticket";
import { retryAfterOfCode } from "@/lib/staff/sign-in-errors";
import { activeStaff, findStaffByOidcSubject, signInWithOidc, signInWithPassword, signOutStaff } from "@/lib/staff/staff";
import { requestMetaFrom } from "./http";
import { safeReturnPath } from "./return-to";

export const STAFF_SESSION_MAX_AGE = 8 * 60 * 60;

interface OidcProfile extends Record<string, unknown> {
  sub: string;
  email?: string;
  name?: string;
}

function oidcProvider(): OAuthConfig<OidcProfile> | null {
  const oidc = config().oidc;
  if (!oidc) return null;
  return {
    id: "oidc",
    name: oidc.displayName,
    type: "oauth",
    wellKnown: `${oidc.issuer}/.well-known/openid-configuration`,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state", "nonce"],
    clientId: oidc.clientId,
    clientSecret: oidc.clientSecret,
    profile: (p) => ({ id: p.sub, email: p.email ?? null, name: p.name ?? p.email ?? p.sub }),
  };
}

let cached: AuthOptions | null = null;

export function authOptions(): AuthOptions {
  if (cached) return cached;
  const cfg = config();
  // next-auth builds its callback URLs from NEXTAUTH_URL; tokendesk's public origin is that.
  process.env.NEXTAUTH_URL ??= cfg.publicUrl;
  const oidc = oidcProvider();
  cached = {
    secret: derivedKey("staff-session").toString("base64url"),
    session: { strategy: "jwt", maxAge: STAFF_SESSION_MAX_AGE },
    pages: { signIn: "/login", error: "/login" },
    providers: [
      CredentialsProvider({
        id: "credentials",
        name: "Email and password",
        // The second step posts the ticket with one proof (code, recovery code or passkey answer).
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
          ticket: { type: "hidden" },
          code: { type: "text" },
          recoveryCode: { type: "text" },
          passkey: { type: "hidden" },
        },
        async authorize(credentials) {
          const db = await getDb();
          const meta = requestMetaFrom(await headers());
          if (credentials?.ticket !== undefined) {
            const done = await completeSecondStep(db, credentials, meta);
            if (!done.ok) throw new Error(done.message);
            return { id: done.staff.id, email: done.staff.email, name: done.staff.name, sv: done.staff.sessionVersion, amr: done.amr };
          }
          const result = await signInWithPassword(db, { email: credentials?.email, password: credentials?.password }, meta);
          // next-auth passes a thrown error's message to the sign-in page as ?error=: a code the page
          // knows (lib/staff/sign-in-errors.ts), never a sentence the page would not show, or the
          // ticket of a second step (lib/staff/second-step-ticket.ts) — never a session.
          if (!result.ok) throw new Error(result.reason === "second_factor" ? `${SECOND_STEP_PREFIX}${result.ticket}` : result.code);
          const amr: AuthMethod[] = ["pwd"];
          return { id: result.staff.id, email: result.staff.email, name: result.staff.name, sv: result.staff.sessionVersion, amr };
        },
      }),
      ...(oidc ? [oidc] : []),
    ],
    callbacks: {
      // Where a sign-in (SSO included) ends: a path of this console, never another origin.
      async redirect({ url, baseUrl }) {
        const target = (() => {
          try {
            return new URL(url, baseUrl);
          } catch {
            return null;
          }
        })();
        if (target && target.origin === new URL(baseUrl).origin && target.pathname === "/login") return target.toString();
        return `${baseUrl}${safeReturnPath(url, baseUrl)}`;
      },
      async signIn({ account, profile }) {
        if (account?.provider !== "oidc") return true;
        const p = profile as OidcProfile | undefined;
        if (!p?.sub) return "/login?error=OidcProfile";
        const result = await signInWithOidc(
          await getDb(),
          { sub: p.sub, email: p.email, name: p.name, claims: p },
          cfg.oidc!,
          requestMetaFrom(await headers()),
        );
        return result.ok ? true : `/login?error=${encodeURIComponent(result.code)}`;
      },
      async jwt({ token, user, account, profile }) {
        if (account?.provider === "oidc" && profile?.sub) {
          const s = await findStaffByOidcSubject(await getDb(), profile.sub);
          if (s) {
            token.staffId = s.id;
            token.sv = s.sessionVersion;
            token.amr = ["sso"];
          }
        } else if (user && account?.provider === "credentials") {
          token.staffId = user.id;
          token.sv = (user as { sv?: number }).sv ?? 1;
          token.amr = (user as { amr?: AuthMethod[] }).amr ?? ["pwd"];
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, staffId: token.staffId as string | undefined, sv: token.sv as number | undefined, amr: token.amr as AuthMethod[] | undefined };
      },
    },
    events: {
      async signOut({ token }) {
        if (typeof token?.staffId !== "string") return;
        const db = await getDb();
        const s = await activeStaff(db, token.staffId, Number(token.sv));
        // Ends the session for good (the member's session version moves on), not only this cookie.
        if (s) await signOutStaff(db, s, requestMetaFrom(await headers()));
      },
    },
  };
  return cached;
}

export function oidcDisplayName(): string | null {
  return config().oidc?.displayName ?? null;
}

/**
 * `/api/auth/*`: next-auth's route handler, with two guards next-auth lacks: a sign-in request whose body cannot
 * be read (broken JSON, a truncated multipart form) gets a sentence instead of a 500, and a form
 * post without a valid CSRF token lands on the sign-in page saying so instead of silently.
 */
type Ctx = { params: Promise<{ nextauth: string[] }> };

async function unreadableBody(req: Request): Promise<boolean> {
  if (req.method !== "POST") return false;
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  try {
    if (type.includes("application/json")) JSON.parse(await req.clone().text());
    else if (type.includes("multipart/form-data") || type.includes("application/x-www-form-urlencoded")) await req.clone().formData();
    return false;
  } catch {
    return true;
  }
}

function toLogin(error: string): Response {
  return new Response(null, { status: 303, headers: { Location: `${config().publicUrl}/login?error=${error}`, "Cache-Control": "no-store" } });
}

function wantsJson(req: Request): boolean {
  return /json/i.test(req.headers.get("accept") ?? "") || /json/i.test(req.headers.get("content-type") ?? "");
}

/** The ?error= code a sign-in answer sends the browser to (in Location, or in the JSON body's url). */
async function signInErrorCode(res: Response): Promise<string | null> {
  let target = res.headers.get("location");
  if (!target && /json/i.test(res.headers.get("content-type") ?? "")) {
    target = ((await res.clone().json()) as { url?: unknown }).url as string | null;
  }
  if (typeof target !== "string") return null;
  try {
    return new URL(target, config().publicUrl).searchParams.get("error");
  } catch {
    return null;
  }
}

/**
 * A sign-in refused by a rate limit says how long to wait in `Retry-After` too: a redirect keeps its
 * status (the browser must follow it to the page that says it in words), the JSON answer of the
 * console's form becomes a 429.
 */
async function withRetryAfter(res: Response): Promise<Response> {
  const code = await signInErrorCode(res);
  const wait = code ? retryAfterOfCode(code) : null;
  if (wait === null) return res;
  const headers = new Headers(res.headers);
  headers.set("Retry-After", String(wait));
  const redirect = res.status >= 300 && res.status < 400;
  return new Response(res.body, { status: redirect ? res.status : 429, headers });
}

export async function nextAuthHandler(req: Request, ctx: Ctx): Promise<Response> {
  const url = new URL(req.url);
  // next-auth sends a failed CSRF check to /api/auth/signin?csrf=true, which forwards to our page
  // without saying why; say it.
  if (req.method === "GET" && url.pathname.endsWith("/signin") && url.searchParams.get("csrf") === "true") return toLogin("CsrfInvalid");
  if (await unreadableBody(req)) {
    return wantsJson(req)
      ? Response.json({ error: { code: "bad_request", message: "The sign-in request could not be read." } }, { status: 400 })
      : toLogin("BadSignInRequest");
  }
  try {
    const res = (await NextAuth(req as never, ctx as never, authOptions())) as Response;
    const location = res.headers.get("location");
    if (location && /[?&]csrf=true/.test(location)) return toLogin("CsrfInvalid");
    return withRetryAfter(res);
  } catch (err) {
    log().error({ err }, "next-auth request failed");
    return wantsJson(req)
      ? Response.json({ error: { code: "internal_error", message: "Sign-in failed on our side; try again." } }, { status: 500 })
      : toLogin("SignInFailed");
  }
}
