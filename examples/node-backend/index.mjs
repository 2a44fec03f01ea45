// A customer backend written against Junction, pointed at tokendesk: only `baseUrl` differs.
// Scopes the key needs: users:read, users:write, sign_in_tokens:write.
//   TOKENDESK_URL=http://localhost:3000 TOKENDESK_API_KEY=sk_us_… node index.mjs
import { VitalClient, VitalError } from "@tryvital/vital-node";

const vital = new VitalClient({ apiKey: process.env.TOKENDESK_API_KEY, baseUrl: process.env.TOKENDESK_URL });

/** Create-or-find: a taken client_user_id answers 409 with the existing user's id. */
async function userFor(clientUserId) {
  try {
    return (await vital.user.create({ clientUserId })).userId;
  } catch (err) {
    if (err instanceof VitalError && err.statusCode === 409) return err.body.error.user_id;
    throw err;
  }
}

const clientUserId = process.argv[2] ?? `example-${Date.now()}`;
const userId = await userFor(clientUserId);
const again = await userFor(clientUserId); // the same user, not a second one
const user = await vital.user.get(userId);
const { signInToken } = await vital.user.getUserSignInToken(userId);
const page = await vital.user.getAll({ offset: 0, limit: 5 });

console.log(
  JSON.stringify({
    userId,
    sameUserOnRetry: again === userId,
    teamId: user.teamId,
    // Hand this to the app; its SDK exchanges it once (never log it in production).
    signInToken,
    listed: page.users.some((u) => u.userId === userId),
    total: page.total,
  }),
);
