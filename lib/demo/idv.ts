/**
 * Demo IDV data: two workflows and a handful of handoffs in every state (live, in progress,
 * submitted with captured photos, expired, cancelled), created through the domain functions so the
 * audit log tells the same story a real integration would.
 */
import type { Database } from "@/db/client";
import { config } from "@/lib/config/env";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { cancelHandoff } from "@/lib/idv/console";
import { issueHandoff, parseCaptureTarget } from "@/lib/idv/handoff";
import { submitSession, submitStep } from "@/lib/idv/sessions";
import { sweepExpiredIdv } from "@/lib/idv/sweeper";
import { createWorkflow } from "@/lib/idv/workflows";

export const DEMO_WORKFLOWS = [
  { id: "wf_id_and_selfie", name: "ID document and selfie", steps: ["document", "selfie"] as const },
  { id: "wf_full_kyc", name: "Full KYC: ID, selfie and details", steps: ["document", "selfie", "form"] as const },
];

/** A 1×1 PNG: enough for the console to show "a captured photo" in the demo. */
const DEMO_PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e7c9f60000000049454e44ae426082",
  "hex",
);

export async function seedIdvDemo(db: Database): Promise<void> {
  const actor = systemActor("demo seed");
  const base = config().publicUrl;
  for (const w of DEMO_WORKFLOWS) await createWorkflow(db, actor, { name: w.name, steps: [...w.steps] }, NO_REQUEST, { id: w.id });

  const now = Date.now();
  const issue = async (externalUserId: string, workflowId: string, minutesAgo: number, ttl: number) => {
    const h = await issueHandoff(
      db,
      actor,
      base,
      { externalUserId, environment: "sandbox", workflowId, ttl, reason: "Demo data" },
      NO_REQUEST,
      new Date(now - minutesAgo * 60_000),
    );
    return { ...h, target: parseCaptureTarget(base, new URL(h.url).searchParams.get("url"))! };
  };
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);

  // Submitted, with everything captured.
  const done = await issue("demo-customer-1001", "wf_full_kyc", 180, 86_400);
  await submitStep(db, done.target.token, done.target.sessionId, "document", { kind: "image", bytes: DEMO_PNG }, NO_REQUEST, at(175));
  await submitStep(db, done.target.token, done.target.sessionId, "selfie", { kind: "image", bytes: DEMO_PNG }, NO_REQUEST, at(174));
  await submitStep(
    db,
    done.target.token,
    done.target.sessionId,
    "form",
    { kind: "fields", fields: { fullName: "Grace Hopper", dateOfBirth: "1906-12-09", email: "grace@example.com" } },
    NO_REQUEST,
    at(173),
  );
  await submitSession(db, done.target.token, done.target.sessionId, NO_REQUEST, at(172));

  // In progress: the document is in, the selfie is not.
  const half = await issue("demo-customer-1002", "wf_id_and_selfie", 30, 86_400);
  await submitStep(db, half.target.token, half.target.sessionId, "document", { kind: "image", bytes: DEMO_PNG }, NO_REQUEST, at(25));

  // Expired: a ten-minute link issued yesterday, marked by the sweeper.
  await issue("demo-customer-1003", "wf_id_and_selfie", 24 * 60, 600);
  await sweepExpiredIdv(db, new Date(now));

  // Cancelled by support.
  const wrong = await issue("demo-customer-1004", "wf_full_kyc", 90, 3600);
  await cancelHandoff(db, actor, wrong.session.id, "Demo: sent to the wrong person", NO_REQUEST, at(85));

  // Live, waiting for the person.
  await issue("demo-customer-1005", "wf_full_kyc", 2, 86_400);
}
