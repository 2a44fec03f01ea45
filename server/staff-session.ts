import "server-only";
import { headers } from "next/headers";
import { forbidden, notFound, redirect } from "next/navigation";
/**
 * The one way pages, server actions and route handlers learn who the staff member is and check
 * what they may do. The JWT cookie only names the member; the row is read on every request so a
 * disabled member or a changed role applies at once.
 */
import { getServerSession } from "next-auth";
import { getDb } from "@/db";
import type { Staff } from "@/db/schema";
import type { Actor, RequestMeta } from "@/lib/context";
import { isDomainError } from "@/lib/errors";
import { can, type Permission } from "@/lib/staff/rbac";
import { getSecuritySettings, sessionStanding } from "@/lib/staff/second-factor";
import { activeStaff } from "@/lib/staff/staff";
import { requestMetaFrom } from "./http";
import { authOptions } from "./next-auth";
import { noteActor } from "./observe";
import { loginPathFor, REQUEST_PATH_HEADER } from "./return-to";

export type StaffActor = Extract<Actor, { type: "staff" }> & { email: string; displayName: string };

export function staffActorOf(s: Staff): StaffActor {
  // The actor's audit name is the email: unique and what an auditor searches for.
  return { type: "staff", id: s.id, name: s.email, role: s.role, email: s.email, displayName: s.name };
}

/**
 * Who the session cookie names: the active staff member, or null — `stale` when there is a session
 * but its member was disabled, changed role or had their password reset since it was issued, or
 * (`SecondFactorRequired`) the deployment now requires a second factor this session did not use.
 * Under "production needs a second factor or SSO", a session with neither is `productionLocked`,
 * which the domain's permission check enforces.
 */
async function staffSession(): Promise<{ actor: StaffActor | null; stale: false | "SessionEnded" | "SecondFactorRequired" }> {
  const session = (await getServerSession(authOptions())) as { staffId?: string; sv?: number; amr?: string[] } | null;
  if (!session?.staffId) return { actor: null, stale: false };
  const db = await getDb();
  const [s, policy] = await Promise.all([activeStaff(db, session.staffId, Number(session.sv ?? 0)), getSecuritySettings(db)]);
  if (!s) return { actor: null, stale: "SessionEnded" };
  // Sessions from before second factors existed carry no amr: they signed in with a password.
  const standing = sessionStanding(policy, Array.isArray(session.amr) ? session.amr : ["pwd"]);
  if (!standing.valid) return { actor: null, stale: "SecondFactorRequired" };
  const actor: StaffActor = { ...staffActorOf(s), productionLocked: standing.productionLocked };
  noteActor(actor);
  return { actor, stale: false };
}

/** The signed-in, active staff member, or null. */
export async function currentStaff(): Promise<StaffActor | null> {
  return (await staffSession()).actor;
}

/** For pages: sends the visitor to sign in, or renders the 403 page when the role may not. */
export async function requireStaffPage(permission: Permission = "console:view", environment?: string | null): Promise<StaffActor> {
  const { actor, stale } = await staffSession();
  // A stale session is told why it has to sign in again, instead of a silent bounce.
  // The page asked for comes back after sign-in (callbackUrl; same origin only, server/return-to.ts).
  if (!actor) redirect(loginPathFor((await headers()).get(REQUEST_PATH_HEADER), stale || null));
  if (!can(actor.role, permission, environment)) forbidden();
  return actor;
}

/** Request metadata inside a server component, server action or route handler. */
/**
 * What a detail page shows, loaded by its domain function: a refusal the domain decides on the
 * record itself (not found, or an environment the role may not see) renders the console's 404 or
 * 403 page instead of an error page.
 */
export async function loadForPage<T>(load: Promise<T>): Promise<T> {
  try {
    return await load;
  } catch (err) {
    if (isDomainError(err) && err.status === 404) notFound();
    if (isDomainError(err) && err.status === 403) forbidden();
    throw err;
  }
}

export async function requestMeta(): Promise<RequestMeta> {
  return requestMetaFrom(await headers());
}
