import { NextResponse } from "next/server";
import { databaseHandle } from "@/db";
import { appliedSchemaVersion, expectedSchemaVersion } from "@/db/client";

export const dynamic = "force-dynamic";

/** Load-balancer health: 200 when the database answers and the schema is current, 503 otherwise. */
export async function GET() {
  const expected = expectedSchemaVersion();
  try {
    const handle = await databaseHandle();
    const applied = await appliedSchemaVersion(handle.db);
    const ok = applied === expected;
    return NextResponse.json(
      { status: ok ? "ok" : "degraded", database: { kind: handle.kind, reachable: true }, schemaVersion: applied, expectedSchemaVersion: expected },
      { status: ok ? 200 : 503, headers: { "Cache-Control": "no-store" } },
    );
  } catch {
    return NextResponse.json(
      { status: "unavailable", database: { reachable: false }, schemaVersion: null, expectedSchemaVersion: expected },
      { status: 503, headers: { "Cache-Control": "no-store" } },
    );
  }
}
