export const dynamic = "force-dynamic";

/**
 * Liveness probe for load balancers and orchestrators: answers 200 {"status":"ok"} as long as the
 * process serves requests, without touching the database (use /api/health for readiness: database
 * reachable and schema current). `npm run bench` also uses it as the "empty route" baseline.
 */
export function GET() {
  return Response.json({ status: "ok" }, { headers: { "Cache-Control": "no-store" } });
}
