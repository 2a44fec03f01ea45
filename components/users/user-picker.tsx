"use client";
import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import type { UserPickJson } from "@/server/routes/console";

const DEBOUNCE_MS = 250;

async function findUsers(q: string, signal: AbortSignal): Promise<UserPickJson[]> {
  const res = await fetch(`/api/console/users?q=${encodeURIComponent(q)}`, { signal, cache: "no-store", headers: { accept: "application/json" } });
  const body = (await res.json().catch(() => null)) as { users?: UserPickJson[]; error?: { message: string } } | null;
  if (!res.ok || !body?.users) throw new Error(body?.error?.message ?? `The search failed (HTTP ${res.status}).`);
  return body.users;
}

const describe = (u: UserPickJson) => [u.name, u.email, u.clientUserId].filter(Boolean).join(" · ");

/**
 * Picks one active user by name, email or id (issue 14, point 10: not a pasted UUID). The chosen
 * user's id goes into the form as `name`; `value`/`onChange` hold it for a controlled form.
 */
export function UserPicker({
  id,
  name,
  value,
  onChange,
  invalid,
  describedBy,
}: {
  id: string;
  name: string;
  value: string;
  onChange: (userId: string) => void;
  invalid?: boolean;
  describedBy?: string;
}) {
  const [q, setQ] = useState("");
  const [results, setResults] = useState<UserPickJson[] | null>(null);
  const [chosen, setChosen] = useState<UserPickJson | null>(null);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLInputElement>(null);

  // A user page links here with ?userId=…: show who that is.
  useEffect(() => {
    if (!value || chosen?.id === value) return;
    const ctl = new AbortController();
    findUsers(value, ctl.signal)
      .then((found) => setChosen(found.find((u) => u.id === value) ?? null))
      .catch(() => {});
    return () => ctl.abort();
  }, [value, chosen?.id]);

  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) {
      setResults(null);
      return;
    }
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      findUsers(text, ctl.signal)
        .then((found) => {
          setResults(found);
          setError(null);
        })
        .catch((e: unknown) => {
          if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : "The search failed.");
        });
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      ctl.abort();
    };
  }, [q]);

  if (value && chosen) {
    return (
      <div className="flex flex-wrap items-center gap-2 rounded-md border border-slate-300 px-3 py-1.5 text-sm" data-testid="picked-user">
        <input type="hidden" name={name} value={value} />
        <span className="min-w-0 flex-1 [overflow-wrap:anywhere]" title={chosen.id}>
          <span className="font-medium">{chosen.name ?? chosen.clientUserId}</span>
          <span className="text-slate-600">
            {" "}
            · {[chosen.email, chosen.clientUserId].filter(Boolean).join(" · ")} ({chosen.environment})
          </span>
        </span>
        <Button
          variant="ghost"
          size="sm"
          onClick={() => {
            onChange("");
            setChosen(null);
            requestAnimationFrame(() => box.current?.focus());
          }}
        >
          Change
        </Button>
      </div>
    );
  }

  return (
    <div>
      <input type="hidden" name={name} value={value} />
      <Input
        ref={box}
        id={id}
        type="search"
        autoComplete="off"
        spellCheck={false}
        placeholder="Name, email or client user id"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        aria-invalid={invalid || undefined}
        aria-describedby={describedBy}
        aria-controls={`${id}-results`}
      />
      <div id={`${id}-results`} aria-live="polite" className="mt-1">
        {error ? <p className="text-xs text-red-700">{error}</p> : null}
        {results && results.length === 0 ? <p className="text-xs text-slate-600">No active user matches “{q.trim()}”.</p> : null}
        {results && results.length > 0 ? (
          <ul className="divide-y divide-slate-100 rounded-md border border-slate-200" aria-label="Matching users">
            {results.map((u) => (
              <li key={u.id}>
                <button
                  type="button"
                  className="block w-full px-3 py-1.5 text-left text-sm hover:bg-slate-50 focus:bg-slate-50 focus:outline-none"
                  data-testid="user-pick"
                  onClick={() => {
                    setChosen(u);
                    onChange(u.id);
                    setQ("");
                    setResults(null);
                  }}
                >
                  {describe(u)} <span className="text-xs text-slate-600">({u.environment})</span>
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
