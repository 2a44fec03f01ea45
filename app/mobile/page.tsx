import type { Metadata, Viewport } from "next";
import { LinkProblem } from "@/components/handoffs/link-problem";
import { MobileFlow } from "@/components/handoffs/mobile-flow";
import { getDb } from "@/db";
import { resolveHandoff } from "@/lib/idv/handoff";
import { sessionDetail } from "@/lib/idv/sessions";
import { findWorkflow } from "@/lib/idv/workflows";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Verify your identity", referrer: "no-referrer", robots: { index: false, follow: false } };
export const viewport: Viewport = { width: "device-width", initialScale: 1 };

/** /mobile?authorization=<token>&sessionId=<id>: the workflow, step by step, on the phone. */
export default async function MobilePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const token = typeof sp.authorization === "string" ? sp.authorization : "";
  const sessionId = typeof sp.sessionId === "string" ? sp.sessionId : "";
  if (!token || !sessionId) return <LinkProblem reason="invalid" />;
  const db = await getDb();
  const state = await resolveHandoff(db, token, sessionId);
  if (!state.ok) return <LinkProblem reason={state.reason} />;
  const detail = await sessionDetail(db, state.session);
  const workflow = await findWorkflow(db, state.session.workflowId);
  return (
    <MobileFlow
      token={token}
      sessionId={sessionId}
      workflowName={workflow?.name ?? "Identity verification"}
      steps={detail.steps}
      expiresAt={detail.expiresAt}
    />
  );
}
