/**
 * Demo data for users, Team API keys, sign-in tokens and SDK sessions, made through the same domain
 * functions the API uses (so the audit log and timelines are real): a key per environment and
 * region, ~30 users, some disabled, sessions started over the past weeks, refreshes, revocations,
 * one refresh-token reuse, API-key installations and a migration. Prints nothing: the keys' secrets
 * are thrown away (staff create their own in the console).
 */
import type { Database } from "@/db/client";
import { API_KEY_SCOPES, apiKeyActor, authenticateApiKey, createApiKey } from "@/lib/api-keys";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { exchangeSignInToken } from "@/lib/oauth/exchange";
import { recordApiKeyInstallation } from "@/lib/oauth/migration";
import { refreshSdkSession } from "@/lib/oauth/refresh";
import { revokeToken } from "@/lib/oauth/revoke";
import { issueSignInToken } from "@/lib/sign-in-tokens";
import { createUser, revokeSession, setUserDisabled } from "@/lib/users";

const PEOPLE = [
  "Maya Chen",
  "Liam O'Brien",
  "Sofia Rossi",
  "Noah Williams",
  "Amara Okafor",
  "Lucas Müller",
  "Yuki Tanaka",
  "Elena Petrova",
  "Mateo García",
  "Aisha Rahman",
  "Oliver Smith",
  "Chloé Martin",
  "Arjun Patel",
  "Freya Nielsen",
  "Diego Fernández",
  "Hannah Kim",
  "Tomás Silva",
  "Zara Ahmed",
  "Jonas Berg",
  "Priya Sharma",
  "Ethan Brown",
  "Léa Dubois",
  "Kwame Mensah",
  "Ingrid Larsen",
  "Rafael Costa",
  "Mei Lin",
  "Samuel Cohen",
  "Nora Haddad",
  "Felix Wagner",
  "Isla MacLeod",
];

const DAY = 86_400_000;

export async function seedTokensDemo(db: Database): Promise<void> {
  const system = systemActor("demo seed");
  const keys = [];
  for (const [environment, region, name] of [
    ["production", "us", "Mobile backend (US)"],
    ["production", "eu", "Mobile backend (EU)"],
    ["sandbox", "us", "Staging backend"],
    ["sandbox", "eu", "QA automation"],
  ] as const) {
    const { key } = await createApiKey(db, system, { name, environment, region, scopes: [...API_KEY_SCOPES] }, NO_REQUEST);
    keys.push({ key, actor: apiKeyActor(await authenticateApiKey(db, key, null)) });
  }

  const now = Date.now();
  for (const [i, person] of PEOPLE.entries()) {
    const { key, actor } = keys[i % keys.length]!;
    const [first, last] = person.split(" ");
    const slug = `${first}.${last}`
      .toLowerCase()
      .normalize("NFD")
      .replace(/[^a-z.]/g, "");
    const user = await createUser(
      db,
      actor,
      {
        client_user_id: `${actor.environment === "production" ? "cus" : "test"}_${(48_213 + i * 7919).toString(36)}`,
        email: `${slug}@example.com`,
        name: person,
      },
      NO_REQUEST,
    );
    if (i % 3 === 2) continue; // some users never signed in

    // A session started some days ago, refreshed now and then.
    const started = new Date(now - (25 - (i % 20)) * DAY);
    const installationId = `${i % 2 ? "ios" : "android"}-${(0x5eed0 + i).toString(16)}`;
    if (i % 4 === 0) {
      // This app ran on the Team API key first, then migrated to sign-in tokens.
      await recordApiKeyInstallation(db, { apiKeyId: actor.id, userId: user.id, installationId }, new Date(started.getTime() - 10 * DAY));
    }
    const issued = await issueSignInToken(db, actor, user.id, { now: started }, NO_REQUEST);
    let tokens = await exchangeSignInToken(
      db,
      { signInToken: issued.signInToken, installationId, migration: i % 4 === 0 ? { apiKey: key, previousUserId: user.id } : null },
      NO_REQUEST,
      { now: new Date(started.getTime() + 20_000) },
    );
    for (let r = 1; r <= i % 4; r++) {
      tokens = await refreshSdkSession(db, tokens.refresh_token, NO_REQUEST, { now: new Date(started.getTime() + r * 3 * DAY) });
    }
    if (i === 4) {
      // A stolen refresh token replayed after rotation: the family is ended and the reuse audited.
      const stale = tokens.refresh_token;
      await refreshSdkSession(db, stale, NO_REQUEST, { now: new Date(now - 2 * DAY) });
      await refreshSdkSession(db, stale, NO_REQUEST, { now: new Date(now - DAY) }).catch(() => undefined);
    }
    if (i === 7) await revokeToken(db, tokens.refresh_token, NO_REQUEST, { now: new Date(now - 3 * DAY) }); // the user signed out
    if (i === 10) {
      // Support ended a lost phone's session, and a new sign-in token is waiting to be used.
      const second = await exchangeSignInToken(
        db,
        { signInToken: (await issueSignInToken(db, actor, user.id, {}, NO_REQUEST)).signInToken, installationId: "ios-lost-phone" },
        NO_REQUEST,
      );
      const sessionId = JSON.parse(Buffer.from(second.access_token.split(".")[1]!, "base64url").toString()).sid as string;
      await revokeSession(db, system, sessionId, { reason: "Customer reported a lost phone (ticket 4411)" }, NO_REQUEST);
      await issueSignInToken(db, system, user.id, { reason: "Customer asked to sign in on a new phone (ticket 4411)", expiresInSeconds: 3600 }, NO_REQUEST);
    }
    if (i === 13 || i === 22) {
      await setUserDisabled(db, system, user.id, true, { reason: "Chargeback under review" }, NO_REQUEST);
    }
  }
}
