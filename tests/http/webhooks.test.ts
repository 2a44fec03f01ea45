/**
 * Webhooks against the production server on PostgreSQL, with its own background dispatcher: an IDV
 * session taken through the phone flow's calls (ephemeral token, start, photos, submit) produces
 * exactly one `idv_session.submitted` delivery, signed so that the `standardwebhooks` library
 * verifies it. The server runs with WEBHOOK_ALLOW_PRIVATE=1 because the receiver is on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createWorkflow } from "@/lib/idv/workflows";
import { createWebhookEndpoint, deleteWebhookEndpoint } from "@/lib/webhooks/endpoints";
import { baseUrl, mintKey, openTestDb, uniq } from "../helpers/machine-api";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver";

const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e7c9f60000000049454e44ae426082",
  "hex",
);
const admin = systemActor("http test");

let h: DatabaseHandle;
let receiver: WebhookReceiver;
let endpointId: string;

beforeAll(async () => {
  h = await openTestDb();
  receiver = await startWebhookReceiver();
  // `localhost`, not 127.0.0.1: this test process does not allow private addresses (the server
  // does), and a host name is judged at delivery time, after DNS.
  const { endpoint, secret } = await createWebhookEndpoint(
    h.db,
    admin,
    { url: receiver.url("/idv", "localhost"), environment: "sandbox", eventTypes: ["idv_session.submitted"] },
    NO_REQUEST,
  );
  endpointId = endpoint.id;
  receiver.setSecrets([secret]);
});
afterAll(async () => {
  await deleteWebhookEndpoint(h.db, admin, endpointId, NO_REQUEST);
  await receiver.close();
  await h.close();
});

async function call(path: string, token: string, body?: unknown, form?: FormData) {
  const res = await fetch(`${baseUrl()}${path}`, {
    method: body === undefined && !form ? "GET" : "POST",
    headers: { Authorization: token, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: form ?? (body !== undefined ? JSON.stringify(body) : undefined),
  });
  const json = (await res.json()) as any;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

describe("webhooks over the production server", () => {
  it("sends one verified idv_session.submitted for a session submitted through the phone flow", async () => {
    const { key } = await mintKey(h);
    const workflow = await createWorkflow(h.db, admin, { name: uniq("webhook wf"), steps: ["document", "selfie"] }, NO_REQUEST);
    const { authorization } = await call("/api/device/ephemeral", key, { ttl: 600 });
    const session = await call(`/api/sessions?workflowId=${workflow.id}`, authorization, { metadata: { externalUserId: "wh-ext-1" } });
    for (const step of ["document", "selfie"]) {
      const form = new FormData();
      form.append("image", new Blob([new Uint8Array(PNG)]), "photo.png");
      await call(`/api/sessions/${session.id}/steps/${step}`, authorization, undefined, form);
    }
    await call(`/api/sessions/${session.id}/submit`, authorization, {});

    // The server's dispatcher polls every second; allow a loaded machine plenty of time.
    const mine = () => receiver.received.filter((r) => r.payload?.data.session_id === session.id);
    const deadline = Date.now() + 60_000;
    while (mine().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // Anything sent twice would have arrived by now too.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(mine()).toHaveLength(1);
    const hook = mine()[0]!;
    expect(hook).toMatchObject({ verified: true, status: 204, path: "/idv" });
    expect(hook.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(hook.payload).toMatchObject({
      type: "idv_session.submitted",
      version: 1,
      data: { session_id: session.id, workflow_id: workflow.id, status: "submitted", external_user_id: "wh-ext-1", steps: ["document", "selfie"] },
    });
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  });
});
