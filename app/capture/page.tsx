import type { Metadata } from "next";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { LinkProblem } from "@/components/handoffs/link-problem";
import { getDb } from "@/db";
import { config } from "@/lib/config/env";
import { isPhoneUserAgent, parseCaptureTarget, resolveHandoff, shortLinkUrl } from "@/lib/idv/handoff";
import { findWorkflow } from "@/lib/idv/workflows";
import { qrSvg } from "@/lib/qr";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Continue on your phone", referrer: "no-referrer", robots: { index: false, follow: false } };

/**
 * /capture?url=<handoff>: on a phone, continue to the inner /mobile URL; on a desktop, show a QR
 * code to scan. The inner URL must be this deployment's /mobile page (no open redirect), and is
 * rebuilt from its parsed parts before any redirect.
 */
export default async function CapturePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = (await searchParams).url;
  const base = config().publicUrl;
  const target = parseCaptureTarget(base, typeof raw === "string" ? raw : null);
  if (!target) return <LinkProblem reason="refused" />;
  const state = await resolveHandoff(await getDb(), target.token, target.sessionId);
  if (!state.ok) return <LinkProblem reason={state.reason} />;
  if (isPhoneUserAgent((await headers()).get("user-agent"))) redirect(target.url);

  // The QR holds the short link: far fewer modules than the full URL, so any phone camera reads it.
  const short = shortLinkUrl(base, target.sessionId);
  const workflow = await findWorkflow(await getDb(), state.session.workflowId);
  const steps = (workflow?.steps ?? []).map((s) => s.label.charAt(0).toLowerCase() + s.label.slice(1));
  const svg = await qrSvg(short);
  return (
    <main className="mx-auto flex min-h-screen max-w-3xl flex-col justify-center px-6 py-12">
      <div className="grid items-center gap-8 rounded-xl border border-slate-200 bg-white p-8 shadow-sm md:grid-cols-2">
        <div>
          <h1 className="text-2xl font-semibold text-slate-900">Continue on your phone</h1>
          <ol className="mt-4 list-decimal space-y-2 pl-5 text-slate-700">
            <li>Open the camera on your phone.</li>
            <li>Point it at the code and tap the link that appears.</li>
            <li>Follow the steps{steps.length ? `: ${steps.join(", ")}` : ""}.</li>
          </ol>
          <p className="mt-6 text-sm text-slate-500">
            No camera nearby?{" "}
            <a className="text-indigo-700 underline" href={target.url} rel="noreferrer">
              Continue on this computer
            </a>
            .
          </p>
        </div>
        <figure className="mx-auto w-64">
          <div
            role="img"
            aria-label="QR code to continue on your phone"
            data-testid="capture-qr"
            // biome-ignore lint/security/noDangerouslySetInnerHtml: SVG markup our server generated with the qrcode package, no user input
            dangerouslySetInnerHTML={{ __html: svg }}
          />
          <figcaption className="mt-2 break-all text-center text-xs text-slate-500">{short}</figcaption>
        </figure>
      </div>
    </main>
  );
}
