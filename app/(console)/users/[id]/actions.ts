"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { DomainError } from "@/lib/errors";
import { qrSvg } from "@/lib/qr";
import { issueSignInToken, revokeSignInToken } from "@/lib/sign-in-tokens";
import { reasonField } from "@/lib/staff/reason";
import { deleteUser, getUser, optionalEmailField, revokeAllSessions, revokeSession, setUserDisabled, updateUser } from "@/lib/users";
import { staffAction } from "@/server/actions";

const userId = z.uuid("is not a user id").meta({ title: "The user" });
const reason = reasonField;

export interface IssuedTokenForConsole {
  tokenId: string;
  userId: string;
  token: string;
  expiresAt: string;
  issuedAt: string;
  /** The token as a QR code (SVG markup rendered here, so no third party ever sees the token). */
  qrSvg: string;
}

/**
 * The console is a broker: the same domain function as POST /v2/user/{id}/sign_in_token, with the
 * staff member as actor (it checks users:issue_tokens on the user's environment — qa: sandbox only).
 */
export const issueSignInTokenAction = staffAction(
  "users:issue_tokens",
  z.object({
    userId,
    reason,
    // Empty means the environment's default lifetime (settings).
    expiresInSeconds: z
      .union([z.literal(""), z.coerce.number().int("must be whole seconds").min(60, "must be at least a minute").max(86_400, "must be at most a day")])
      .optional(),
  }),
  async (input, { actor, db, meta }) => {
    const issued = await issueSignInToken(
      db,
      actor,
      input.userId,
      { reason: input.reason, expiresInSeconds: input.expiresInSeconds === "" || input.expiresInSeconds === undefined ? null : input.expiresInSeconds },
      meta,
    );
    const qr = await qrSvg(issued.signInToken);
    revalidatePath(`/users/${input.userId}`);
    return {
      data: {
        tokenId: issued.tokenId,
        userId: issued.userId,
        token: issued.signInToken,
        expiresAt: issued.expiresAt.toISOString(),
        issuedAt: new Date().toISOString(),
        qrSvg: qr,
      } satisfies IssuedTokenForConsole,
      message: "Sign-in token issued.",
    };
  },
);

export const setUserDisabledAction = staffAction(
  "users:disable",
  z.object({ userId, disabled: z.enum(["true", "false"]), reason }),
  async (input, { actor, db, meta }) => {
    const user = await setUserDisabled(db, actor, input.userId, input.disabled === "true", { reason: input.reason }, meta);
    revalidatePath(`/users/${input.userId}`);
    return {
      data: user.id,
      message:
        user.status === "disabled"
          ? `${user.clientUserId} is disabled; every session ended and no token of theirs works any more.`
          : `${user.clientUserId} is enabled again. They need a new sign-in token to sign in.`,
    };
  },
);

/** Name and email, with a reason (audited as `user.updated`); an empty field clears it. */
export const updateUserAction = staffAction(
  "users:write",
  z.object({
    userId,
    name: z.string("is required").trim().max(200, "must be at most 200 characters").meta({ title: "Name" }),
    email: optionalEmailField.meta({ title: "Email" }),
    reason,
  }),
  async (input, { actor, db, meta }) => {
    const user = await updateUser(db, actor, input.userId, { name: input.name, email: input.email, reason: input.reason }, meta);
    revalidatePath(`/users/${input.userId}`);
    revalidatePath("/users");
    return { data: user.id, message: `Saved: ${user.name ?? "no name"}, ${user.email ?? "no email"}.` };
  },
);

export const deleteUserAction = staffAction("users:delete", z.object({ userId, reason, confirm: z.string().trim() }), async (input, { actor, db, meta }) => {
  // The typed confirmation is checked here, not only in the browser.
  const user = await getUser(db, actor, input.userId);
  if (input.confirm !== user.clientUserId) {
    throw new DomainError("confirmation_mismatch", `Type the client user id “${user.clientUserId}” exactly to confirm.`, { field: "confirm" });
  }
  await deleteUser(db, actor, input.userId, { reason: input.reason }, meta);
  revalidatePath(`/users/${input.userId}`);
  revalidatePath("/users");
  return { data: user.id, message: `${user.clientUserId} is deleted; their apps are signed out.` };
});

export const revokeSessionAction = staffAction(
  "users:revoke_sessions",
  z.object({ userId, sessionId: z.uuid("is not a session id"), reason }),
  async (input, { actor, db, meta }) => {
    const session = await revokeSession(db, actor, input.sessionId, { reason: input.reason }, meta);
    revalidatePath(`/users/${input.userId}`);
    return {
      data: session.id,
      message: `Session${session.installationId ? ` of installation ${session.installationId}` : ""} revoked; its next refresh fails.`,
    };
  },
);

export const revokeAllSessionsAction = staffAction("users:revoke_sessions", z.object({ userId, reason }), async (input, { actor, db, meta }) => {
  const { revoked } = await revokeAllSessions(db, actor, input.userId, { reason: input.reason }, meta);
  revalidatePath(`/users/${input.userId}`);
  return { data: String(revoked), message: revoked ? `${revoked} session${revoked === 1 ? "" : "s"} revoked.` : "There were no live sessions to revoke." };
});

export const revokeSignInTokenAction = staffAction(
  "users:revoke_sessions",
  z.object({ userId, tokenId: z.uuid("is not a sign-in token id").meta({ title: "The sign-in token" }), reason }),
  async (input, { actor, db, meta }) => {
    const { revoked } = await revokeSignInToken(db, actor, input.userId, input.tokenId, { reason: input.reason }, meta);
    revalidatePath(`/users/${input.userId}`);
    return { data: input.tokenId, message: revoked ? "Sign-in token revoked: it can no longer be used." : "That sign-in token was already revoked." };
  },
);
