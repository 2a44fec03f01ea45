import "server-only";
/**
 * The next-auth route handler, with two guards next-auth lacks: a sign-in request whose body cannot
 * be read (broken JSON, a truncated multipart form) gets a sentence instead of a 500, and a form
 * post without a valid CSRF token lands on the sign-in page saying so instead of silently.
 */
import NextAuth from "next-auth";
import { config } from "@/lib/config/env";
import { authOptions } from "./auth-options";

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
    return res;
  } catch (err) {
    console.error("next-auth request failed:", err);
    return wantsJson(req)
      ? Response.json({ error: { code: "internal_error", message: "Sign-in failed on our side; try again." } }, { status: 500 })
      : toLogin("SignInFailed");
  }
}
