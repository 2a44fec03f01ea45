// The browser side: @tokendesk/sdk signs in once with a sign-in token from this app's backend,
// reconciles on every launch, and signs out with the app. server.mjs bundles this file.
import { createTokendeskClient, indexedDbStorage, isSdkError } from "@tokendesk/sdk";

const { tokendeskUrl } = await (await fetch("/config.json")).json();
const tokendesk = createTokendeskClient({ baseUrl: tokendeskUrl, storage: indexedDbStorage() });
const $ = (id) => document.getElementById(id);

// A stand-in for your app's own session (a cookie your backend checks, in a real app).
const appUser = () => localStorage.getItem("example-app-user");

async function signInToTokendesk() {
  const res = await fetch("/api/tokendesk-sign-in-token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: appUser() }),
  });
  if (!res.ok) throw new Error(`the backend could not mint a sign-in token (${res.status})`);
  await tokendesk.signIn((await res.json()).signInToken);
}

/** On every launch: act only when your app's session and the SDK's disagree. */
async function reconcile() {
  const status = await tokendesk.status();
  if (appUser() && (!status.has("signedIn") || status.has("pendingReauthentication"))) await signInToTokendesk();
  else if (!appUser() && status.has("signedIn")) await tokendesk.signOut();
}

async function render() {
  const userId = await tokendesk.currentUserId();
  if (!userId) {
    $("state").textContent = "Signed out";
    return;
  }
  try {
    const me = await (await tokendesk.fetch(`/v2/user/${userId}`)).json();
    $("state").textContent = `Signed in as ${me.client_user_id} (${me.user_id})`;
  } catch (err) {
    $("state").textContent = isSdkError(err) ? `tokendesk: ${err.code}` : String(err);
  }
}

tokendesk.onStatusChange(() => void render()); // another tab signing in or out shows here too
$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await tokendesk.currentUserId()) await tokendesk.signOut(); // a different user: start over
  localStorage.setItem("example-app-user", $("name").value);
  await signInToTokendesk();
  await render();
});
$("sign-out").addEventListener("click", async () => {
  localStorage.removeItem("example-app-user");
  await tokendesk.signOut();
  await render();
});

await reconcile();
await render();
