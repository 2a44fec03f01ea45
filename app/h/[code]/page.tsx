import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { LinkProblem } from "@/components/handoffs/link-problem";
import { getDb } from "@/db";
import { config } from "@/lib/config/env";
import { resolveShortLink } from "@/lib/idv/handoff";

export const dynamic = "force-dynamic";
// The page it leads to carries a token in its URL: never send it on as a referrer.
export const metadata: Metadata = { title: "Identity verification", referrer: "no-referrer", robots: { index: false, follow: false } };

/** /h/<code>: the short link in a QR code, leading to the full handoff while it can be used. */
export default async function ShortLinkPage({ params }: { params: Promise<{ code: string }> }) {
  const { code } = await params;
  const state = await resolveShortLink(await getDb(), config().publicUrl, code);
  if (state.ok) redirect(state.url);
  return <LinkProblem reason={state.reason} />;
}
