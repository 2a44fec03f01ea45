"use client";
/**
 * The handoff on a phone: one step per screen (photo through the camera, or a short form), a
 * progress bar, a review with a final submit, and a clear end state. Every call carries the
 * ephemeral token in `Authorization`; the token only reaches this one session.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { useSecondsLeft } from "@/components/ui/use-seconds-left";
import { fieldProblem, isBirthDate, isoDay } from "@/lib/idv/fields";
import type { SessionStepState } from "@/lib/idv/sessions";
import { LinkProblem, type LinkProblemReason } from "./link-problem";

type Props = { token: string; sessionId: string; workflowName: string; steps: SessionStepState[]; expiresAt: string };

interface ApiError {
  error?: { code?: string; message?: string; field?: string };
}

const PHOTO_HINT: Record<string, string> = {
  document: "Place your ID on a flat, well-lit surface and make sure all four corners are visible.",
  selfie: "Face the camera in good light, without sunglasses or a hat.",
};

export function MobileFlow({ token, sessionId, workflowName, steps: initial, expiresAt }: Props) {
  const [steps, setSteps] = useState(initial);
  const firstOpen = steps.findIndex((s) => !s.completed);
  const [current, setCurrent] = useState(firstOpen === -1 ? steps.length : firstOpen);
  const [ended, setEnded] = useState<LinkProblemReason | "done" | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // What this phone sent for each step, for the review before submitting (after a reload the
  // server's "done" is all there is: it does not hand captured data back).
  const [captured, setCaptured] = useState<Record<string, { fields?: Record<string, string>; photo?: string }>>({});
  const done = steps.filter((s) => s.completed).length;

  const call = async (path: string, init: RequestInit): Promise<unknown | null> => {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/api/sessions/${sessionId}${path}`, { ...init, headers: { ...(init.headers ?? {}), Authorization: token } });
      const body = (await res.json().catch(() => ({}))) as ApiError;
      if (res.ok) return body;
      const code = body.error?.code;
      if (code === "token_expired") setEnded("expired");
      else if (code === "invalid_token" || code === "session_not_found") setEnded("invalid");
      else if (code === "session_closed") setEnded("submitted");
      else setError(body.error?.message ?? "Something went wrong. Please try again.");
      return null;
    } catch {
      setError("We could not reach the server. Check your connection and try again.");
      return null;
    } finally {
      setBusy(false);
    }
  };

  const complete = (result: unknown) => {
    const next = (result as { steps?: SessionStepState[] }).steps ?? steps;
    setSteps(next);
    const open = next.findIndex((s) => !s.completed);
    setCurrent(open === -1 ? next.length : open);
  };

  if (ended === "done") {
    return (
      <Shell title={workflowName}>
        <div className="rounded-xl border border-emerald-200 bg-emerald-50 p-6 text-center" role="status" data-testid="mobile-done">
          <div aria-hidden className="mx-auto mb-3 flex h-12 w-12 items-center justify-center rounded-full bg-emerald-600 text-2xl text-white">
            ✓
          </div>
          <h2 className="text-xl font-semibold text-emerald-900">Thank you, you are done</h2>
          <p className="mt-2 text-emerald-900">Your verification has been submitted. You can close this page now.</p>
        </div>
      </Shell>
    );
  }
  if (ended) return <LinkProblem reason={ended} />;

  const step = steps[current];
  return (
    <Shell title={workflowName}>
      <Progress done={done} total={steps.length} current={current} />
      {error ? (
        <p role="alert" className="mb-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900">
          {error}
        </p>
      ) : null}
      {step ? (
        step.type === "form" ? (
          <FormStep
            key={step.id}
            step={step}
            busy={busy}
            onSubmit={async (fields) => {
              const r = await call(`/steps/${encodeURIComponent(step.id)}`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ fields }),
              });
              if (r) {
                setCaptured((c) => ({ ...c, [step.id]: { fields } }));
                complete(r);
              }
            }}
          />
        ) : (
          <PhotoStep
            key={step.id}
            step={step}
            busy={busy}
            rejected={error}
            onPick={() => setError(null)}
            onSubmit={async (file, preview) => {
              const form = new FormData();
              form.append("image", file);
              const r = await call(`/steps/${encodeURIComponent(step.id)}`, { method: "POST", body: form });
              if (r) {
                setCaptured((c) => ({ ...c, [step.id]: { photo: preview ?? undefined } }));
                complete(r);
              }
              return Boolean(r);
            }}
          />
        )
      ) : (
        <section aria-labelledby="review-title">
          <h2 id="review-title" className="text-lg font-semibold text-slate-900">
            Check and submit
          </h2>
          <p className="mt-1 text-sm text-slate-600">Everything is ready. You can redo a step before you submit.</p>
          <ul className="mt-4 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white" data-testid="mobile-review">
            {steps.map((s, i) => {
              const mine = captured[s.id];
              return (
                <li key={s.id} className="px-4 py-3" data-step={s.id}>
                  <div className="flex items-center justify-between">
                    <span className="font-medium text-slate-800">{s.label}</span>
                    <button type="button" className="text-sm font-medium text-indigo-700 underline" onClick={() => setCurrent(i)}>
                      Redo
                    </button>
                  </div>
                  {mine?.fields ? (
                    <dl className="mt-2 space-y-1 text-sm">
                      {(s.fields ?? []).map((f) => (
                        <div key={f.name} className="flex gap-2">
                          <dt className="text-slate-600">{f.label}:</dt>
                          <dd className="font-medium text-slate-900" data-field={f.name}>
                            {mine.fields?.[f.name] || "—"}
                          </dd>
                        </div>
                      ))}
                    </dl>
                  ) : mine?.photo ? (
                    <img src={mine.photo} alt={`What you sent for “${s.label}”`} className="mt-2 h-20 w-auto rounded border border-slate-200 object-contain" />
                  ) : (
                    <p className="mt-1 text-sm text-slate-600">Done earlier on this link.</p>
                  )}
                </li>
              );
            })}
          </ul>
          <button
            type="button"
            disabled={busy}
            className="mt-6 h-12 w-full rounded-lg bg-indigo-600 text-base font-semibold text-white disabled:opacity-50"
            onClick={async () => {
              const r = await call("/submit", { method: "POST" });
              if (r) setEnded("done");
            }}
          >
            {busy ? "Submitting…" : "Submit verification"}
          </button>
        </section>
      )}
      <Expiry expiresAt={expiresAt} />
    </Shell>
  );
}

function Shell({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="mx-auto min-h-screen max-w-md px-4 py-6">
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500">Identity verification</p>
      <h1 className="mb-4 text-2xl font-semibold text-slate-900">{title}</h1>
      {children}
    </main>
  );
}

function Progress({ done, total, current }: { done: number; total: number; current: number }) {
  const label = current < total ? `Step ${current + 1} of ${total}` : "Ready to submit";
  return (
    <div className="mb-5">
      <p className="mb-1 text-sm font-medium text-slate-700" data-testid="mobile-progress">
        {label}
      </p>
      <div
        role="progressbar"
        aria-label="Progress"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        className="h-2 w-full rounded-full bg-slate-200"
      >
        <div className="h-2 rounded-full bg-indigo-600 transition-all" style={{ width: `${(done / Math.max(total, 1)) * 100}%` }} />
      </div>
    </div>
  );
}

function PhotoStep({
  step,
  busy,
  rejected,
  onPick,
  onSubmit,
}: {
  step: SessionStepState;
  busy: boolean;
  /** The server's reason for refusing the last upload, shown where the photo would be. */
  rejected: string | null;
  onPick: () => void;
  onSubmit: (f: File, preview: string | null) => Promise<boolean>;
}) {
  const [file, setFile] = useState<File | null>(null);
  const preview = useMemo(() => (file ? URL.createObjectURL(file) : null), [file]);
  // A file the browser cannot draw (not an image, or a format it does not read) says so instead of
  // showing a broken picture.
  const [unreadable, setUnreadable] = useState(false);
  // A sent photo's preview stays for the review; one replaced before sending is released.
  const sent = useRef<string | null>(null);
  useEffect(
    () => () => {
      if (preview && sent.current !== preview) URL.revokeObjectURL(preview);
    },
    [preview],
  );
  const problem = file
    ? (rejected ?? (unreadable ? "This file cannot be shown as a photo. Take the photo again, or choose a JPEG or PNG image." : null))
    : null;
  const inputId = `photo-${step.id}`;
  return (
    <section aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`} className="text-lg font-semibold text-slate-900">
        {step.label}
      </h2>
      <p className="mt-1 text-sm text-slate-600">{PHOTO_HINT[step.type] ?? "Take a clear photo."}</p>
      <div className="mt-4 flex aspect-[4/3] items-center justify-center overflow-hidden rounded-lg border-2 border-dashed border-slate-300 bg-slate-50">
        {problem ? (
          <p role="alert" className="px-6 text-center text-sm text-red-800" data-testid="photo-problem">
            <span aria-hidden className="mb-2 block text-2xl">
              ⚠
            </span>
            {problem}
          </p>
        ) : preview ? (
          <img
            src={preview}
            // biome-ignore lint/a11y/noRedundantAlt: "Your photo" is what the person just took, in their words
            alt="Your photo"
            className="h-full w-full object-contain"
            onError={() => setUnreadable(true)}
          />
        ) : (
          <span className="text-sm text-slate-500">No photo yet</span>
        )}
      </div>
      <label
        htmlFor={inputId}
        className="mt-4 flex h-12 w-full cursor-pointer items-center justify-center rounded-lg border border-slate-300 bg-white text-base font-medium text-slate-900"
      >
        {file ? "Take another photo" : "Take a photo"}
      </label>
      <input
        id={inputId}
        type="file"
        accept="image/*"
        capture={step.type === "selfie" ? "user" : "environment"}
        className="sr-only"
        onChange={(e) => {
          setUnreadable(false);
          onPick();
          setFile(e.target.files?.[0] ?? null);
        }}
      />
      <button
        type="button"
        disabled={!file || busy || Boolean(problem)}
        className="mt-3 h-12 w-full rounded-lg bg-indigo-600 text-base font-semibold text-white disabled:opacity-50"
        onClick={async () => {
          if (!file) return;
          sent.current = preview;
          if (!(await onSubmit(file, preview))) sent.current = null;
        }}
      >
        {busy ? "Uploading…" : "Use this photo"}
      </button>
    </section>
  );
}

function FormStep({ step, busy, onSubmit }: { step: SessionStepState; busy: boolean; onSubmit: (fields: Record<string, string>) => Promise<void> }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  return (
    <form
      noValidate
      aria-labelledby={`form-${step.id}-title`}
      onSubmit={async (e) => {
        e.preventDefault();
        const data = new FormData(e.currentTarget);
        const fields: Record<string, string> = {};
        const found: Record<string, string> = {};
        for (const f of step.fields ?? []) {
          const v = String(data.get(f.name) ?? "").trim();
          // The server's own checks (lib/idv/fields.ts), said before sending.
          const problem = v ? fieldProblem(f, v) : f.required ? `${f.label} is required.` : null;
          if (problem) found[f.name] = problem;
          if (v) fields[f.name] = v;
        }
        setErrors(found);
        if (Object.keys(found).length === 0) await onSubmit(fields);
      }}
    >
      <h2 id={`form-${step.id}-title`} className="text-lg font-semibold text-slate-900">
        {step.label}
      </h2>
      <div className="mt-4 space-y-4">
        {(step.fields ?? []).map((f) => (
          <div key={f.name}>
            <label htmlFor={`f-${f.name}`} className="mb-1 block text-sm font-medium text-slate-700">
              {f.label}
              {f.required ? "" : " (optional)"}
            </label>
            <input
              id={`f-${f.name}`}
              name={f.name}
              type={f.type}
              required={f.required}
              {...(isBirthDate(f) ? { max: isoDay(new Date()) } : {})}
              aria-invalid={errors[f.name] ? true : undefined}
              onInput={() => errors[f.name] && setErrors(({ [f.name]: _fixed, ...rest }) => rest)}
              aria-describedby={errors[f.name] ? `f-${f.name}-error` : undefined}
              autoComplete={f.type === "email" ? "email" : f.name === "fullName" ? "name" : f.type === "date" ? "bday" : undefined}
              className="block h-12 w-full rounded-lg border border-slate-300 px-3 text-base aria-[invalid=true]:border-red-500"
            />
            {errors[f.name] ? (
              <p id={`f-${f.name}-error`} role="alert" className="mt-1 text-sm text-red-700">
                {errors[f.name]}
              </p>
            ) : null}
          </div>
        ))}
      </div>
      <button type="submit" disabled={busy} className="mt-6 h-12 w-full rounded-lg bg-indigo-600 text-base font-semibold text-white disabled:opacity-50">
        {busy ? "Saving…" : "Continue"}
      </button>
    </form>
  );
}

function Expiry({ expiresAt }: { expiresAt: string }) {
  const left = useSecondsLeft(expiresAt);
  if (left === null) return null;
  const m = Math.floor(left / 60);
  return (
    <p className="mt-8 text-center text-xs text-slate-500">
      This link works for another {m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : m >= 1 ? `${m} min` : `${left} s`}.
    </p>
  );
}
