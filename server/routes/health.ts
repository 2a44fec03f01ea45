/** Probes for load balancers and orchestrators. */
import { databaseHandle } from "@/db";
import { appliedSchemaVersion, expectedSchemaVersion } from "@/db/client";
import { jsonResponse } from "../http";

const NO_STORE = { "Cache-Control": "no-store" };

/**
 * GET /api/live — liveness: 200 {"status":"ok"} as long as the process serves requests, without
 * touching the database (readiness is /api/health). `npm run bench` also uses it as the "empty
 * route" baseline.
 */
export async function liveRoute(): Promise<Response> {
  return jsonResponse({ status: "ok" }, { headers: NO_STORE });
}

/**
 * GET /api/health — readiness: 200 when the database answers and its schema is at or ahead of this
 * release's. Ahead is ready too: during a rolling upgrade the new release migrates first, and
 * migrations only expand (README, Rolling upgrades), so this release keeps serving on it.
 */
export async function healthRoute(): Promise<Response> {
  const expected = expectedSchemaVersion();
  try {
    const handle = await databaseHandle();
    const applied = await appliedSchemaVersion(handle.db);
    const ok = applied >= expected;
    return jsonResponse(
      {
        status: ok ? "ok" : "degraded",
        database: { kind: handle.kind, reachable: true },
        schemaVersion: applied,
        expectedSchemaVersion: expected,
        schemaAhead: applied > expected,
      },
      { status: ok ? 200 : 503, headers: NO_STORE },
    );
  } catch {
    return jsonResponse(
      { status: "unavailable", database: { reachable: false }, schemaVersion: null, expectedSchemaVersion: expected },
      { status: 503, headers: NO_STORE },
    );
  }
}
