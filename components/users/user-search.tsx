"use client";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useRef, useState, useTransition } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/input";

const DEBOUNCE_MS = 250;

/**
 * The user lookup form. Without JavaScript it is a plain GET form (the URL holds q, environment and
 * status, so a support link can be shared); with it, typing searches after a short pause and the
 * filters apply at once, replacing the URL instead of stacking history entries per keystroke.
 */
export function UserSearch({ values, environments }: { values: { q: string; environment: string; status: string }; environments: string[] }) {
  const router = useRouter();
  const pathname = usePathname();
  const [pending, startTransition] = useTransition();
  const [q, setQ] = useState(values.q);
  const [env, setEnv] = useState(values.environment);
  const [status, setStatus] = useState(values.status);
  const formRef = useRef<HTMLFormElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  function navigate(next: { q?: string; environment?: string; status?: string }) {
    const form = formRef.current;
    if (!form) return;
    const data = new FormData(form);
    const params = new URLSearchParams();
    const merged = { q: String(data.get("q") ?? ""), environment: String(data.get("environment") ?? ""), status: String(data.get("status") ?? ""), ...next };
    for (const [k, v] of Object.entries(merged)) if (v.trim()) params.set(k, k === "q" ? v.trim() : v);
    // A new search starts at the first page: the cursor is dropped.
    startTransition(() => router.replace(params.size ? `${pathname}?${params}` : pathname, { scroll: false }));
  }

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  // The URL changed from elsewhere (the Users link, back/forward): show its query, unless the
  // person is typing in the box right now.
  useEffect(() => {
    if (document.activeElement?.id !== "user-q") setQ(values.q);
  }, [values.q]);
  useEffect(() => setEnv(values.environment), [values.environment]);
  useEffect(() => setStatus(values.status), [values.status]);

  // "/" jumps to the search box from anywhere on the page, as in most consoles.
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      const target = e.target as HTMLElement | null;
      if (e.key === "/" && !e.metaKey && !e.ctrlKey && target && !["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) && !target.isContentEditable) {
        e.preventDefault();
        document.getElementById("user-q")?.focus();
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <form
      ref={formRef}
      method="get"
      action={pathname}
      role="search"
      aria-label="Find a user"
      className="grid gap-3 md:grid-cols-[minmax(0,1fr)_auto_auto_auto]"
      onSubmit={(e) => {
        e.preventDefault();
        if (timer.current) clearTimeout(timer.current);
        navigate({ q });
      }}
    >
      <Field label="Search" htmlFor="user-q" hint="User id, client user id, email or name — exact, start or any part. Press / to jump here.">
        <Input
          id="user-q"
          name="q"
          type="search"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          placeholder="e.g. user_123, ada@example.com, 0190…"
          value={q}
          onChange={(e) => {
            const value = e.target.value;
            setQ(value);
            if (timer.current) clearTimeout(timer.current);
            timer.current = setTimeout(() => navigate({ q: value }), DEBOUNCE_MS);
          }}
        />
      </Field>
      <Field label="Environment" htmlFor="user-env">
        <Select
          id="user-env"
          name="environment"
          value={env}
          onChange={(e) => {
            setEnv(e.target.value);
            navigate({ environment: e.target.value });
          }}
        >
          {environments.length > 1 ? <option value="">All environments</option> : null}
          {environments.map((env) => (
            <option key={env} value={env}>
              {env}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Status" htmlFor="user-status">
        <Select
          id="user-status"
          name="status"
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            navigate({ status: e.target.value });
          }}
        >
          <option value="">Any status</option>
          <option value="active">Active</option>
          <option value="disabled">Disabled</option>
        </Select>
      </Field>
      <div className="flex items-start pt-6">
        <Button type="submit" variant="secondary" aria-busy={pending}>
          {pending ? "Searching…" : "Search"}
        </Button>
      </div>
    </form>
  );
}
