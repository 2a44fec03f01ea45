"use client";
import { useActionState } from "react";
import { DecodedJwt } from "@/components/devices/decoded-jwt";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field, Textarea } from "@/components/ui/input";
import { Link } from "@/components/ui/link";
import type { JwtInspection } from "@/lib/inspector";
import type { ActionResult } from "@/server/actions";

type Action = (prev: ActionResult<JwtInspection> | null, form: FormData) => Promise<ActionResult<JwtInspection>>;

const KIND: Record<JwtInspection["kind"], string> = {
  device_jwt: "Device JWT",
  sdk_access_token: "SDK access token",
  foreign_jwt: "Foreign JWT",
  not_a_jwt: "Not a JWT",
};

export function JwtInspector({ action }: { action: Action }) {
  const [state, formAction, pending] = useActionState(action, null);
  const result = state?.ok ? state.data : null;
  return (
    <div className="space-y-6">
      <Card>
        <CardBody>
          <form action={formAction} aria-label="Inspect a token" className="space-y-3">
            <Field
              label="Token"
              htmlFor="jwt-token"
              hint="A device JWT or SDK access token, with or without “Bearer ”. It is checked on the server and never stored or logged."
              error={state && !state.ok ? state.error : null}
            >
              <Textarea
                id="jwt-token"
                name="token"
                required
                rows={5}
                spellCheck={false}
                autoComplete="off"
                className="font-mono text-xs"
                placeholder="eyJhbGciOiJFUzI1NiIs…"
              />
            </Field>
            <Button type="submit" disabled={pending}>
              {pending ? "Inspecting…" : "Inspect"}
            </Button>
          </form>
        </CardBody>
      </Card>
      <div aria-live="polite">
        {result ? (
          <Card data-testid="jwt-inspection">
            <CardHeader
              title={KIND[result.kind]}
              description={result.summary}
              actions={result.accepted ? <Badge tone="good">Accepted now</Badge> : <Badge tone="bad">Refused</Badge>}
            />
            <CardBody className="space-y-4">
              <ul className="flex flex-wrap gap-2" aria-label="Findings">
                {result.findings.map((f) => (
                  <li key={f.label}>
                    <Badge tone={f.tone} title={f.detail}>
                      {f.label}
                    </Badge>
                  </li>
                ))}
              </ul>
              <Alert tone={result.signature.verified ? "success" : "warning"} title="Signature">
                {result.signature.message}
              </Alert>
              {result.expiry.expiresAt ? (
                <p className="text-sm text-slate-700">
                  {result.expiry.expired ? "Expired" : "Expires"} {result.expiry.expiresAt.replace(".000Z", "Z")}
                  {result.expiry.issuedAt ? `; issued ${result.expiry.issuedAt.replace(".000Z", "Z")}` : ""}.
                </p>
              ) : null}
              {result.findings.filter((f) => f.detail).length ? (
                <ul className="list-disc pl-5 text-sm text-slate-700">
                  {result.findings
                    .filter((f) => f.detail && f.label !== "Signature not valid" && f.label !== "Not a tokendesk token")
                    .map((f) => (
                      <li key={f.label}>
                        <span className="font-medium">{f.label}:</span> {f.detail}
                      </li>
                    ))}
                </ul>
              ) : null}
              {result.header || result.claims ? <DecodedJwt header={result.header} claims={result.claims} /> : null}
              {result.links.length ? (
                <p className="flex gap-4 text-sm">
                  {result.links.map((l) => (
                    <Link key={l.href} href={l.href} className="text-indigo-700 underline-offset-4 hover:underline">
                      {l.label} →
                    </Link>
                  ))}
                </p>
              ) : null}
            </CardBody>
          </Card>
        ) : null}
      </div>
    </div>
  );
}
