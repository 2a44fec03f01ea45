/**
 * The `/v2` user family (Junction-style): users and their sign-in tokens, for customer backends
 * with a Team API key, and `GET /v2/user/{id}` for the user's own SDK with its access token.
 */
import { z } from "zod";
import { DomainError } from "@/lib/errors";
import { recordApiKeyInstallation } from "@/lib/oauth/migration";
import { issueSignInToken, MAX_SIGN_IN_TTL_SECONDS, MIN_SIGN_IN_TTL_SECONDS } from "@/lib/sign-in-tokens";
import { createUser, createUserInput, deleteUser, getUser, MAX_PAGE_SIZE, resolveByClientUserId, searchUsers, setUserDisabled, toApiUser } from "@/lib/users";
import { describeZodError, readJson, withApiKey, withApiKeyOrBearer } from "../machine-api";

type UserParams = { user_id: string };

/** POST /v2/user — create a user in the key's environment and region. */
export const createUserRoute = withApiKey("users:write", async (req, { db, actor, meta }) => {
  const body = await readJson(req, createUserInput);
  const user = await createUser(db, actor, body, meta);
  return Response.json(toApiUser(user));
});

/** GET /v2/user/{user_id} — with a key (users:read) or the user's own access token. */
export const getUserRoute = withApiKeyOrBearer<UserParams>("users:read", async (req, { db, actor, key, bearerUser, params }) => {
  const user = await getUser(db, actor, params.user_id, bearerUser);
  if (user.status === "deleted") return Response.json({ error: { code: "user_not_found", message: "No such user." } }, { status: 404 });
  if (key) {
    // An SDK in API-key mode: remember the installation so the migration report can follow it.
    await recordApiKeyInstallation(db, { apiKeyId: key.id, userId: user.id, installationId: req.headers.get("x-installation-id") });
  }
  return Response.json(toApiUser(user));
});

/** DELETE /v2/user/{user_id} — 204; the user's SDK sessions end. */
export const deleteUserRoute = withApiKey<UserParams>("users:write", async (_req, { db, actor, meta, params }) => {
  await deleteUser(db, actor, params.user_id, {}, meta);
  return new Response(null, { status: 204 });
});

const statusBody = z.object({ disabled: z.boolean("must be true or false") });

/** PUT /v2/user/{user_id}/status {disabled} — 204; disabling ends every token of the user at once. */
export const setUserStatusRoute = withApiKey<UserParams>("users:write", async (req, { db, actor, meta, params }) => {
  const { disabled } = await readJson(req, statusBody);
  await setUserDisabled(db, actor, params.user_id, disabled, {}, meta);
  return new Response(null, { status: 204 });
});

/** GET /v2/user/resolve/{client_user_id} — the key's user with that client user id, or 404. */
export const resolveUserRoute = withApiKey<{ client_user_id: string }>("users:read", async (_req, { db, actor, params }) => {
  const user = await resolveByClientUserId(db, actor, params.client_user_id);
  return Response.json(toApiUser(user));
});

const searchQuery = z.object({
  q: z.string().max(200, "must be at most 200 characters").optional(),
  cursor: z.string().max(512, "is not a cursor this server handed out").optional(),
  limit: z.coerce
    .number("must be a number")
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .optional(),
  status: z.enum(["active", "disabled"], "must be active or disabled").optional(),
});

/** GET /v2/users?q=&cursor=&limit=&status= — a keyset page of the key's users. */
export const searchUsersRoute = withApiKey("users:read", async (req, { db, actor }) => {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const parsed = searchQuery.safeParse(params);
  if (!parsed.success) {
    const { message, field } = describeZodError(parsed.error);
    throw new DomainError("validation_failed", message, 422, field ? { field } : {});
  }
  const page = await searchUsers(db, actor, parsed.data);
  return Response.json({ users: page.users.map(toApiUser), next_cursor: page.nextCursor });
});

const signInTokenBody = z.object({
  expires_in_seconds: z
    .number("must be a number of seconds")
    .int("must be a whole number of seconds")
    .min(MIN_SIGN_IN_TTL_SECONDS, `must be at least ${MIN_SIGN_IN_TTL_SECONDS}`)
    .max(MAX_SIGN_IN_TTL_SECONDS, `must be at most ${MAX_SIGN_IN_TTL_SECONDS}`)
    .nullish(),
});

/** POST /v2/user/{user_id}/sign_in_token — a single-use sign-in token for the user's SDK. */
export const issueSignInTokenRoute = withApiKey<UserParams>("sign_in_tokens:write", async (req, { db, actor, meta, params }) => {
  const { expires_in_seconds } = await readJson(req, signInTokenBody, { optional: true });
  const issued = await issueSignInToken(db, actor, params.user_id, { expiresInSeconds: expires_in_seconds }, meta);
  return Response.json(
    { user_id: issued.user_id, sign_in_token: issued.sign_in_token, expires_at: issued.expires_at },
    { headers: { "Cache-Control": "no-store" } },
  );
});
