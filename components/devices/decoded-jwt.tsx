import { Badge } from "@/components/ui/badge";
import { formatUtc } from "@/components/ui/format";

/** Header and claims of a JWT as readable JSON, with iat/exp also shown as dates. */
export function DecodedJwt({ header, claims, testId }: { header: Record<string, unknown> | null; claims: Record<string, unknown> | null; testId?: string }) {
  const time = (v: unknown) => (typeof v === "number" ? formatUtc(new Date(v * 1000), { seconds: true }) : null);
  return (
    <div className="grid gap-4 lg:grid-cols-2" data-testid={testId}>
      <div>
        <p className="mb-1 text-xs font-medium uppercase tracking-wide text-slate-500">Header</p>
        <pre className="whitespace-pre-wrap rounded-md bg-slate-900 p-3 text-xs leading-relaxed text-slate-100 [overflow-wrap:anywhere]">
          {JSON.stringify(header, null, 2)}
        </pre>
      </div>
      <div>
        <p className="mb-1 text-xs font-medium uppercase tracking-wide text-slate-500">Claims</p>
        <pre className="whitespace-pre-wrap rounded-md bg-slate-900 p-3 text-xs leading-relaxed text-slate-100 [overflow-wrap:anywhere]">
          {JSON.stringify(claims, null, 2)}
        </pre>
        {claims ? (
          <p className="mt-2 flex flex-wrap gap-2 text-xs text-slate-600">
            {time(claims.iat) ? <Badge>issued {time(claims.iat)}</Badge> : null}
            {time(claims.exp) ? <Badge>expires {time(claims.exp)}</Badge> : null}
          </p>
        ) : null}
      </div>
    </div>
  );
}
