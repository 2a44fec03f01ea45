"use client";
/**
 * A live handoff in the console: the QR code (short link), the full URL with copy, a countdown and
 * the session's status, polled from a staff-authenticated route until it can no longer change.
 */
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import type { IssuedHandoff } from "@/app/(console)/handoffs/actions";
import { Button } from "@/components/ui/button";
import { formatClock, useSecondsLeft } from "@/components/ui/use-seconds-left";
import type { HandoffStatusJson } from "@/server/routes/console";
import { HandoffStatusBadge } from "./status-badge";

const FINAL = new Set(["submitted", "expired", "cancelled"]);

export function HandoffLive({ handoff }: { handoff: IssuedHandoff }) {
  const { data } = useQuery({
    queryKey: ["handoff", handoff.sessionId],
    queryFn: async (): Promise<HandoffStatusJson> => {
      const res = await fetch(`/api/console/handoffs/${handoff.sessionId}`, { cache: "no-store" });
      if (!res.ok) throw new Error(`status ${res.status}`);
      return (await res.json()) as HandoffStatusJson;
    },
    refetchInterval: (q) => (q.state.data && FINAL.has(q.state.data.status) ? false : 2_000),
    refetchIntervalInBackground: true,
  });
  const status = data?.status ?? handoff.status;
  // The server-rendered parts of the page (the handoffs list below, the handoff's details) follow
  // the live status: each change refreshes them, so a row never says "created" beside "submitted".
  const router = useRouter();
  const seen = useRef(handoff.status);
  useEffect(() => {
    if (status === seen.current) return;
    seen.current = status;
    router.refresh();
  }, [status, router]);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied(null);
    }
  };
  const live = !FINAL.has(status);
  return (
    <div className="grid gap-6 md:grid-cols-[16rem_1fr]" data-testid="handoff-live" data-session-id={handoff.sessionId}>
      <div>
        <div
          role="img"
          aria-label="QR code of the handoff link"
          data-testid="handoff-qr"
          className={`w-64 rounded-md border border-slate-200 bg-white ${live ? "" : "opacity-30"}`}
          // biome-ignore lint/security/noDangerouslySetInnerHtml: SVG markup our server generated with the qrcode package, no user input
          dangerouslySetInnerHTML={{ __html: handoff.qrSvg }}
        />
        <p className="mt-1 text-xs text-slate-500">Scan with a phone camera. The code holds the short link.</p>
      </div>
      <div className="min-w-0 space-y-4">
        <div className="flex flex-wrap items-center gap-3">
          <span className="text-sm text-slate-600">Status</span>
          <span aria-live="polite">
            <HandoffStatusBadge status={status} data-testid="handoff-status" />
          </span>
          {live ? <Countdown expiresAt={data?.expiresAt ?? handoff.expiresAt} /> : null}
        </div>
        {data?.steps?.length ? (
          <ol className="flex flex-wrap gap-2 text-xs" aria-label="Steps">
            {data.steps.map((s) => (
              <li
                key={s.id}
                className={`rounded-full px-2 py-0.5 ring-1 ${s.completed ? "bg-emerald-50 text-emerald-800 ring-emerald-300" : "bg-slate-50 text-slate-600 ring-slate-300"}`}
              >
                {s.completed ? "✓ " : ""}
                {s.label}
              </li>
            ))}
          </ol>
        ) : null}
        <div>
          <label htmlFor={`url-${handoff.sessionId}`} className="mb-1 block text-sm font-medium text-slate-700">
            Handoff URL
          </label>
          <div className="flex gap-2">
            <input
              id={`url-${handoff.sessionId}`}
              readOnly
              value={handoff.url}
              data-testid="handoff-url"
              className="h-9 min-w-0 flex-1 rounded-md border border-slate-300 bg-slate-50 px-3 font-mono text-xs"
              onFocus={(e) => e.currentTarget.select()}
            />
            <Button variant="secondary" size="md" onClick={() => copy(handoff.url, "url")}>
              {copied === "url" ? "Copied" : "Copy"}
            </Button>
          </div>
        </div>
        <div>
          <label htmlFor={`short-${handoff.sessionId}`} className="mb-1 block text-sm font-medium text-slate-700">
            Short link
          </label>
          <div className="flex gap-2">
            <input
              id={`short-${handoff.sessionId}`}
              readOnly
              value={handoff.shortUrl}
              className="h-9 min-w-0 flex-1 rounded-md border border-slate-300 bg-slate-50 px-3 font-mono text-xs"
              onFocus={(e) => e.currentTarget.select()}
            />
            <Button variant="secondary" size="md" onClick={() => copy(handoff.shortUrl, "short")}>
              {copied === "short" ? "Copied" : "Copy"}
            </Button>
          </div>
        </div>
        <p className="text-sm">
          <a className="text-indigo-700 hover:underline" href={`/handoffs/${handoff.sessionId}`}>
            Open this handoff →
          </a>
        </p>
      </div>
    </div>
  );
}

export function Countdown({ expiresAt }: { expiresAt: string }) {
  const left = useSecondsLeft(expiresAt);
  if (left === null) return null;
  const text = left === 0 ? "expired" : `expires in ${formatClock(left)}`;
  return (
    <span className="text-sm tabular-nums text-slate-600" data-testid="handoff-countdown">
      {text}
    </span>
  );
}
