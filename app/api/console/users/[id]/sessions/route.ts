import { listUserSessions } from "@/lib/users";
import { consoleJson } from "../../../respond";

export const dynamic = "force-dynamic";

/** The user's SDK sessions, for the user page's live list (refetched when a sign-in token is redeemed). */
export const GET = consoleJson<{ id: string }>(async ({ actor, db, params }) => {
  const sessions = await listUserSessions(db, actor, params.id);
  return { sessions };
});
