/**
 * The `/v2` user family (Junction-style): users and their sign-in tokens, for customer backends
 * with a Team API key, and `GET /v2/user/{id}` for the user's own SDK with its access token.
 */
import { z } from "zod";
import { parseInput } from "@/lib/errors";
import { recordApiKeyInstallation } from "@/lib/oauth/migration";
import { deploymentTeamId } from "@/lib/settings/deployment";
import { issueSignInToken, listPendingSignInTokens, MAX_SIGN_IN_TTL_SECONDS, MIN_SIGN_IN_TTL_SECONDS, revokeSignInToken } from "@/lib/sign-in-tokens";
import {
  createUser,
  createUserInput,
  DEFAULT_LIST_LIMIT,
  deleteUser,
  getUser,
  listUsers,
  MAX_LIST_LIMIT,
  MAX_PAGE_SIZE,
  resolveByClientUserId,
  searchUsers,
  setUserDisabled,
  type UserView,
} from "@/lib/users";
import { corsPreflight, withCors } from "../cors";
import { jsonResponse } from "../http";
import { readJson, withApiKey, withApiKeyOrBearer } from "../machine-api";

type UserParams = { user_id: string };

/**
 * A user on the wire, wherever one is answered. Junction's fields come first so that Junction's own
 * server SDK (@tryvital/vital-node) parses it — `team_id` is the deployment's, tokendesk connects no
 * data sources and keeps no fallbacks — then tokendesk's own (that SDK lets extra fields through).
 */
export const apiUser = z
  .object({
    user_id: z.string().meta({ description: "tokendesk's id of the user (a UUID).", example: "0190a8f2-6b7c-7d4e-9f10-2a3b4c5d6e7f" }),
    team_id: z.string().meta({ description: "The deployment's team id: one per deployment, stable.", example: "5b1c7f0e-3d2a-4c8b-9e6f-1a2b3c4d5e6f" }),
    client_user_id: z.string().meta({ description: "Your id for the user, unique per environment and region.", example: "your-user-42" }),
    created_on: z.string().meta({ description: "ISO-8601 time the user was created.", format: "date-time", example: "2026-11-30T09:15:00.000Z" }),
    connected_sources: z.array(z.never()).meta({ description: "Always empty: tokendesk connects no data sources (Junction compatibility)." }),
    fallback_time_zone: z.null().meta({ description: "Always null (Junction compatibility)." }),
    fallback_birth_date: z.null().meta({ description: "Always null (Junction compatibility)." }),
    environment: z.enum(["sandbox", "production"]),
    region: z.string().meta({ example: "us" }),
    email: z.string().nullable(),
    name: z.string().nullable(),
    status: z.enum(["active", "disabled", "deleted"]),
    disabled: z.boolean().meta({ description: "status is not active." }),
  })
  .meta({ id: "User" });
export type ApiUser = z.infer<typeof apiUser>;

export function toApiUser(u: UserView, teamId: string): ApiUser {
  return {
    user_id: u.id,
    team_id: teamId,
    client_user_id: u.clientUserId,
    created_on: u.createdAt.toISOString(),
    connected_sources: [],
    fallback_time_zone: null,
    fallback_birth_date: null,
    environment: u.environment,
    region: u.region,
    email: u.email,
    name: u.name,
    status: u.status,
    disabled: u.status !== "active",
  };
}

/** POST /v2/user — create a user in the key's environment and region. */
export const createUserRoute = withApiKey("users:write", async (req, { db, actor, meta }) => {
  const body = await readJson(req, createUserInput);
  const user = await createUser(db, actor, body, meta);
  return jsonResponse(toApiUser(user, await deploymentTeamId(db)));
});

/** GET /v2/user/{user_id} — with a key (users:read) or the user's own access token (which browsers may send cross-origin). */
export const getUserRoute = withCors<UserParams>(
  "bearer",
  withApiKeyOrBearer<UserParams>("users:read", async (req, { db, actor, key, bearerUser, params }) => {
    const user = await getUser(db, actor, params.user_id, bearerUser);
    if (user.status === "deleted") return jsonResponse({ error: { code: "user_not_found", message: "No such user." } }, { status: 404 });
    if (key) {
      // An SDK in API-key mode: remember the installation so the migration report can follow it.
      await recordApiKeyInstallation(db, { apiKeyId: key.id, userId: user.id, installationId: req.headers.get("x-installation-id") });
    }
    return jsonResponse(toApiUser(user, await deploymentTeamId(db)));
  }),
);
/** The browser's preflight for GET /v2/user/{user_id} with a bearer token (DELETE, an API-key call, is refused). */
export const userPreflight = corsPreflight("bearer", ["GET"]);

export const deleteUserAnswer = z.object({ success: z.literal(true) }).meta({ id: "Success" });

/** DELETE /v2/user/{user_id} — Junction's `200 {"success": true}`; the user's SDK sessions end. */
export const deleteUserRoute = withApiKey<UserParams>("users:write", async (_req, { db, actor, meta, params }) => {
  await deleteUser(db, actor, params.user_id, {}, meta);
  return jsonResponse({ success: true } satisfies z.infer<typeof deleteUserAnswer>);
});

export const statusBody = z.object({ disabled: z.boolean("must be true or false") });

/** PUT /v2/user/{user_id}/status {disabled} — 204; disabling ends every token of the user at once. */
export const setUserStatusRoute = withApiKey<UserParams>("users:write", async (req, { db, actor, meta, params }) => {
  const { disabled } = await readJson(req, statusBody);
  await setUserDisabled(db, actor, params.user_id, disabled, {}, meta);
  return new Response(null, { status: 204 });
});

/** GET /v2/user/resolve/{client_user_id} — the key's user with that client user id, or 404. */
export const resolveUserRoute = withApiKey<{ client_user_id: string }>("users:read", async (_req, { db, actor, params }) => {
  const user = await resolveByClientUserId(db, actor, params.client_user_id);
  return jsonResponse(toApiUser(user, await deploymentTeamId(db)));
});

export const searchQuery = z.object({
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
  const page = await searchUsers(db, actor, parseInput(searchQuery, params));
  const teamId = await deploymentTeamId(db);
  return jsonResponse({ users: page.users.map((u) => toApiUser(u, teamId)), next_cursor: page.nextCursor });
});

export const listQuery = z.object({
  offset: z.coerce.number("must be a number").int("must be a whole number").min(0, "must be 0 or more").max(1_000_000_000, "is too large").default(0),
  limit: z.coerce
    .number("must be a number")
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(MAX_LIST_LIMIT, `must be at most ${MAX_LIST_LIMIT}`)
    .default(DEFAULT_LIST_LIMIT),
});

export const userListAnswer = z
  .object({
    users: z.array(apiUser),
    total: z.number().int().meta({ description: "Exact up to 10,000 users; above that the database's estimate." }),
    offset: z.number().int(),
    limit: z.number().int(),
  })
  .meta({ id: "UserList" });

/** GET /v2/user?offset=&limit= — Junction's list: the key's live users, newest first. */
export const listUsersRoute = withApiKey("users:read", async (req, { db, actor }) => {
  const list = await listUsers(db, actor, parseInput(listQuery, Object.fromEntries(new URL(req.url).searchParams)));
  const teamId = await deploymentTeamId(db);
  return jsonResponse({
    users: list.users.map((u) => toApiUser(u, teamId)),
    total: list.total,
    offset: list.offset,
    limit: list.limit,
  } satisfies z.infer<typeof userListAnswer>);
});

export const signInTokenBody = z.object({
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
  return jsonResponse(
    { user_id: issued.userId, sign_in_token: issued.signInToken, expires_at: issued.expiresAt.toISOString(), token_id: issued.tokenId },
    { headers: { "Cache-Control": "no-store" } },
  );
});

export const pendingSignInTokensAnswer = z
  .object({
    tokens: z.array(
      z.object({
        token_id: z.string(),
        created_at: z.string().meta({ description: "ISO-8601." }),
        expires_at: z.string().meta({ description: "ISO-8601." }),
        issued_by: z.object({
          type: z.enum(["api_key", "staff", "system"]),
          name: z.string().nullable().meta({ description: "The key's or staff member's name; null if it no longer exists." }),
        }),
      }),
    ),
  })
  .meta({ id: "PendingSignInTokens" });

/** GET /v2/user/{user_id}/sign_in_tokens — the user's unused, unrevoked, unexpired tokens (never the secret). */
export const listSignInTokensRoute = withApiKey<UserParams>("users:read", async (_req, { db, actor, params }) => {
  const pending = await listPendingSignInTokens(db, actor, params.user_id);
  const answer: z.infer<typeof pendingSignInTokensAnswer> = {
    tokens: pending.map((p) => ({
      token_id: p.id,
      created_at: p.createdAt.toISOString(),
      expires_at: p.expiresAt.toISOString(),
      issued_by: { type: p.issuedBy.type as "api_key" | "staff" | "system", name: p.issuedBy.name },
    })),
  };
  return jsonResponse(answer, { headers: { "Cache-Control": "no-store" } });
});

/** DELETE /v2/user/{user_id}/sign_in_tokens/{token_id} — takes an unused token back; 204 (also when already revoked). */
export const revokeSignInTokenRoute = withApiKey<UserParams & { token_id: string }>("sign_in_tokens:write", async (_req, { db, actor, meta, params }) => {
  await revokeSignInToken(db, actor, params.user_id, params.token_id, {}, meta);
  return new Response(null, { status: 204 });
});
