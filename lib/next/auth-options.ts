import "server-only";
/**
 * next-auth (v4) configuration: the credentials provider (argon2id passwords) always, and an OIDC
 * provider when OIDC_* is configured. Sessions are signed JWT cookies holding only the staff id and
 * a session version; every request re-reads the staff row (see session.ts), so a disabled member or
 * a changed role takes effect on the next request, on every instance.
 */
import type { AuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import type { OAuthConfig } from "next-auth/providers/oauth";
import { getDb } from "@/db";
import { config } from "@/lib/config/env";
import { derivedKey } from "@/lib/crypto/keys";
import { activeStaff, findStaffByOidcSubject, recordSignOut, signInWithOidc, signInWithPassword } from "@/lib/staff/staff";
import { requestMeta } from "./request-meta";

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
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials) {
          const result = await signInWithPassword(await getDb(), { email: credentials?.email, password: credentials?.password }, await requestMeta());
          // next-auth passes a thrown error's message to the sign-in page: a sentence for people.
          if (!result.ok) throw new Error(result.message);
          return { id: result.staff.id, email: result.staff.email, name: result.staff.name, sv: result.staff.sessionVersion };
        },
      }),
      ...(oidc ? [oidc] : []),
    ],
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.provider !== "oidc") return true;
        const p = profile as OidcProfile | undefined;
        if (!p?.sub) return "/login?error=OidcProfile";
        const result = await signInWithOidc(await getDb(), { sub: p.sub, email: p.email, name: p.name, claims: p }, cfg.oidc!, await requestMeta());
        return result.ok ? true : `/login?error=${encodeURIComponent(result.message)}`;
      },
      async jwt({ token, user, account, profile }) {
        if (account?.provider === "oidc" && profile?.sub) {
          const s = await findStaffByOidcSubject(await getDb(), profile.sub);
          if (s) {
            token.staffId = s.id;
            token.sv = s.sessionVersion;
          }
        } else if (user && account?.provider === "credentials") {
          token.staffId = user.id;
          token.sv = (user as { sv?: number }).sv ?? 1;
        }
        return token;
      },
      async session({ session, token }) {
        return { ...session, staffId: token.staffId as string | undefined, sv: token.sv as number | undefined };
      },
    },
    events: {
      async signOut({ token }) {
        if (typeof token?.staffId !== "string") return;
        const db = await getDb();
        const s = await activeStaff(db, token.staffId, Number(token.sv));
        if (s) await recordSignOut(db, s, await requestMeta());
      },
    },
  };
  return cached;
}

export function oidcDisplayName(): string | null {
  return config().oidc?.displayName ?? null;
}
