"use client";

export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui", padding: "6rem 1.5rem", textAlign: "center" }}>
        <h1>tokendesk could not load this page</h1>
        <p>Try again in a moment. Reference: {error.digest ?? "n/a"}</p>
        <button type="button" onClick={() => reset()}>
          Try again
        </button>
      </body>
    </html>
  );
}
