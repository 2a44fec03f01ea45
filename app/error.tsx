"use client";
import { useEffect } from "react";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <main className="mx-auto max-w-lg px-6 py-24 text-center">
      <p className="text-sm font-semibold text-red-700">Error</p>
      <h1 className="mt-2 text-2xl font-semibold">Something went wrong on our side</h1>
      <p className="mt-2 text-slate-600">
        Nothing you did caused this. Try again; if it keeps happening, give this reference to your admin:{" "}
        <code className="rounded bg-slate-100 px-1">{error.digest ?? "n/a"}</code>
      </p>
      <button type="button" className="mt-6 rounded-md bg-indigo-600 px-4 py-2 text-white" onClick={() => reset()}>
        Try again
      </button>
    </main>
  );
}
