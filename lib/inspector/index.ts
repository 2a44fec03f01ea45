/**
 * The paste-a-JWT inspector: explains any token pasted by staff — a device JWT
 * (aud `tokendesk-device`), an SDK access token (aud `tokendesk`), a foreign JWT or plain garbage.
 * It decodes without trusting, verifies the signature against tokendesk's own keys, reports expiry
 * and looks up whether the device, SDK session or user behind it is disabled or revoked.
 *
 * The token itself is never stored, logged or audited: it only lives in this call.
 */
import { eq } from "drizzle-orm";
import type * as jose from "jose";
import type { Executor } from "@/db/client";
import { devices, instances, revokedAccessTokens, sdkSessions, users } from "@/db/schema";
import { config } from "@/lib/config/env";
import type { Actor } from "@/lib/context";
import { DomainError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { DEVICE_AUDIENCE, decodeUnverified, JwtError, SDK_AUDIENCE, verifyJwt } from "@/lib/oauth/jwt";
import { assertStaffCan } from "@/lib/staff/authorize";
import { can, type Permission } from "@/lib/staff/rbac";

export type TokenKind = "device_jwt" | "sdk_access_token" | "foreign_jwt" | "not_a_jwt";
export type Tone = "good" | "warn" | "bad" | "neutral";

export interface Finding {
  /** A short label people scan for, e.g. "Device disabled". */
  label: string;
  tone: Tone;
  detail?: string;
}

export interface JwtInspection {
  kind: TokenKind;
  /** One sentence: what this token is and whether tokendesk accepts it now. */
  summary: string;
  accepted: boolean;
  header: Record<string, unknown> | null;
  claims: Record<string, unknown> | null;
  signature: { verified: boolean; message: string };
  expiry: { expiresAt: string | null; issuedAt: string | null; expired: boolean | null; secondsLeft: number | null };
  findings: Finding[];
  /** Where the console can show more (device page, user page). */
  links: Array<{ label: string; href: string }>;
}

const MAX_TOKEN_LENGTH = 16 * 1024;

function audiences(claims: jose.JWTPayload): string[] {
  return claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
}

function asDate(seconds: unknown): Date | null {
  return typeof seconds === "number" && Number.isFinite(seconds) ? new Date(seconds * 1000) : null;
}

/** Who may inspect tokens: staff who can read devices or users (the token may be either). */
function assertMayInspect(actor: Actor): void {
  if (actor.type === "system") return;
  if (actor.type !== "staff") throw new DomainError("forbidden");
  const perms: Permission[] = ["devices:read", "users:read"];
  if (!perms.some((p) => can(actor.role, p))) assertStaffCan(actor, "devices:read");
}

export async function inspectJwt(db: Executor, actor: Actor, rawToken: string, opts: { now?: Date } = {}): Promise<JwtInspection> {
  assertMayInspect(actor);
  const now = opts.now ?? new Date();
  const token = rawToken.trim().replace(/^Bearer\s+/i, "");
  if (token === "") throw new DomainError("validation_failed", "Paste a token to inspect.", { field: "token" });
  if (token.length > MAX_TOKEN_LENGTH)
    throw new DomainError("validation_failed", `That is longer than any token tokendesk issues (${MAX_TOKEN_LENGTH} characters).`, { field: "token" });

  let decoded: { header: jose.ProtectedHeaderParameters; claims: jose.JWTPayload };
  try {
    decoded = decodeUnverified(token);
  } catch {
    const parts = token.split(".").length;
    return {
      kind: "not_a_jwt",
      summary:
        parts === 5
          ? "This is an encrypted JWT (JWE); tokendesk only issues signed JWTs, so it did not come from here."
          : /^(dt|drt|ik)_/.test(token)
            ? "This is a tokendesk DeviceToken, refresh token or InstanceKey, not a JWT: search for a DeviceToken on the Devices page."
            : "This is not a JWT: a JWT has three base64url parts separated by dots, with a JSON header and claims.",
      accepted: false,
      header: null,
      claims: null,
      signature: { verified: false, message: "Nothing to verify: the token could not be decoded." },
      expiry: { expiresAt: null, issuedAt: null, expired: null, secondsLeft: null },
      findings: [{ label: "Not a JWT", tone: "bad" }],
      links: [],
    };
  }

  const { header, claims } = decoded;
  const aud = audiences(claims);
  const kind: TokenKind = aud.includes(DEVICE_AUDIENCE) ? "device_jwt" : aud.includes(SDK_AUDIENCE) ? "sdk_access_token" : "foreign_jwt";
  const expiresAt = asDate(claims.exp);
  const issuedAt = asDate(claims.iat);
  const expired = expiresAt ? expiresAt.getTime() <= now.getTime() : null;
  const findings: Finding[] = [];
  const links: JwtInspection["links"] = [];

  // Signature: verified with our keys for the token's own audience; expiry is judged separately so
  // that an expired token still shows whether it was genuinely ours.
  let verified = false;
  let signatureMessage: string;
  if (kind === "foreign_jwt") {
    signatureMessage = `Not checked: the audience ${aud.length ? aud.map((a) => `"${a}"`).join(", ") : "(none)"} is not one tokendesk issues tokens for (${DEVICE_AUDIENCE}, ${SDK_AUDIENCE}).`;
  } else {
    try {
      await verifyJwt(db, token, { audience: kind === "device_jwt" ? DEVICE_AUDIENCE : SDK_AUDIENCE, now, allowExpired: true });
      verified = true;
      signatureMessage = `Verified with tokendesk's signing key ${header.kid ?? ""}.`.replace(" .", ".");
    } catch (err) {
      if (!(err instanceof JwtError)) throw err;
      signatureMessage =
        err.reason === "unknown_key"
          ? `Not signed by any current tokendesk key (kid ${header.kid ?? "missing"}): it was forged, comes from another deployment, or its key was retired.`
          : err.reason === "claims" && claims.iss !== config().publicUrl
            ? `Issued by ${typeof claims.iss === "string" ? claims.iss : "an unknown issuer"}, not by this deployment (${config().publicUrl}).`
            : err.message;
    }
  }
  findings.push(
    verified
      ? { label: "Signature valid", tone: "good" }
      : { label: kind === "foreign_jwt" ? "Not a tokendesk token" : "Signature not valid", tone: "bad", detail: signatureMessage },
  );
  if (expired === true) findings.push({ label: "Expired", tone: "bad", detail: `Expired ${expiresAt!.toISOString()}.` });
  else if (expired === false) findings.push({ label: "Not expired", tone: "good", detail: `Expires ${expiresAt!.toISOString()}.` });
  else findings.push({ label: "No expiry", tone: "warn", detail: "The token has no exp claim." });

  let subjectOk = true;
  if (verified && kind === "device_jwt") {
    const [row] = isUuid(claims.sub)
      ? await db
          .select({ device: devices, environment: instances.environment })
          .from(devices)
          .innerJoin(instances, eq(instances.id, devices.instanceId))
          .where(eq(devices.id, claims.sub))
      : [];
    if (!row) {
      subjectOk = false;
      findings.push({ label: "Device not found", tone: "bad", detail: "No device with this id exists any more." });
    } else if (actor.type === "staff" && !can(actor.role, "devices:read", row.environment)) {
      subjectOk = false;
      findings.push({ label: "Device in another environment", tone: "warn", detail: "Your role may not see devices in this environment." });
    } else {
      links.push({ label: "Open the device", href: `/devices/${row.device.id}` });
      if (row.device.disabledAt) {
        subjectOk = false;
        findings.push({
          label: "Device disabled",
          tone: "bad",
          detail: `Disabled ${row.device.disabledAt.toISOString()}: every JWT of this device is refused.`,
        });
      } else {
        findings.push({ label: "Device active", tone: "good" });
      }
    }
  }
  if (verified && kind === "sdk_access_token") {
    const [revoked] = typeof claims.jti === "string" ? await db.select().from(revokedAccessTokens).where(eq(revokedAccessTokens.jti, claims.jti)) : [];
    if (revoked) {
      subjectOk = false;
      findings.push({ label: "Token revoked", tone: "bad", detail: "This access token was revoked on its own (RFC 7009)." });
    }
    const [session] = isUuid(claims.sid) ? await db.select().from(sdkSessions).where(eq(sdkSessions.id, claims.sid)) : [];
    if (typeof claims.sid === "string") {
      if (!session) {
        subjectOk = false;
        findings.push({ label: "Session not found", tone: "bad" });
      } else if (session.revokedAt) {
        subjectOk = false;
        findings.push({ label: "Session revoked", tone: "bad", detail: session.revokeReason ? `Reason: ${session.revokeReason}` : undefined });
      } else if (session.expiresAt.getTime() <= now.getTime()) {
        subjectOk = false;
        findings.push({ label: "Session ended", tone: "bad", detail: "The SDK session reached its absolute lifetime." });
      } else {
        findings.push({ label: "Session active", tone: "good" });
      }
    }
    const [user] = isUuid(claims.sub) ? await db.select().from(users).where(eq(users.id, claims.sub)) : [];
    if (!user) {
      subjectOk = false;
      findings.push({ label: "User not found", tone: "bad" });
    } else if (actor.type === "staff" && !can(actor.role, "users:read", user.environment)) {
      subjectOk = false;
      findings.push({ label: "User in another environment", tone: "warn", detail: "Your role may not see users in this environment." });
    } else {
      links.push({ label: "Open the user", href: `/users/${user.id}` });
      if (user.deletedAt) {
        subjectOk = false;
        findings.push({ label: "User deleted", tone: "bad" });
      } else if (user.disabledAt) {
        subjectOk = false;
        findings.push({ label: "User disabled", tone: "bad" });
      } else {
        findings.push({ label: "User active", tone: "good" });
      }
    }
  }

  const accepted = verified && expired === false && subjectOk;
  const what = kind === "device_jwt" ? "A device JWT" : kind === "sdk_access_token" ? "An SDK access token" : "A JWT from somewhere else";
  const firstBad = findings.find((f) => f.tone === "bad");
  const summary =
    kind === "foreign_jwt"
      ? `${what}: its audience is not one tokendesk issues, so tokendesk would refuse it.`
      : accepted
        ? `${what} that tokendesk accepts right now.`
        : `${what} that tokendesk refuses: ${firstBad ? firstBad.label.toLowerCase() : "it is not valid"}.`;
  return {
    kind,
    summary,
    accepted,
    header: header as Record<string, unknown>,
    claims: claims as Record<string, unknown>,
    signature: { verified, message: signatureMessage },
    expiry: {
      expiresAt: expiresAt?.toISOString() ?? null,
      issuedAt: issuedAt?.toISOString() ?? null,
      expired,
      secondsLeft: expiresAt ? Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)) : null,
    },
    findings,
    links,
  };
}
