// Starts an identity-verification handoff for one of your users and prints the URL to show as a
// QR code (or send to the phone). Scope the key needs: ephemeral_devices:write.
//   TOKENDESK_URL=http://localhost:3000 TOKENDESK_API_KEY=sk_us_… node index.mjs <workflowId> <yourUserId>
const [workflowId, externalUserId = "your-user-42"] = process.argv.slice(2);
if (!workflowId) throw new Error("usage: node index.mjs <workflowId> [externalUserId]");

const res = await fetch(`${process.env.TOKENDESK_URL}/api/v1/deeplink?workflowId=${encodeURIComponent(workflowId)}`, {
  method: "POST",
  headers: { Authorization: `ApiKey ${process.env.TOKENDESK_API_KEY}`, "Content-Type": "application/json" },
  body: JSON.stringify({ metadata: { externalUserId }, ttl: 1800 }),
});
const body = await res.json();
if (!res.ok) throw new Error(`tokendesk refused the handoff: ${res.status} ${JSON.stringify(body)}`);

// body.url is `{BASE}/capture?url=…`: on a desktop it shows the QR code, on a phone it continues to
// the capture flow. Later, read the session's result with a `sessions:read` key:
// GET /api/sessions/{id} (the id is in the inner URL's `sessionId`).
const inner = new URL(new URL(body.url).searchParams.get("url"));
console.log(JSON.stringify({ url: body.url, sessionId: inner.searchParams.get("sessionId"), expiresAt: body.expiresAt, workflowIds: body.workflowIds }));
