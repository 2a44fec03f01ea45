import { getDb } from "@/db";
import { publicJwks } from "@/lib/oauth/signing-keys";

export const dynamic = "force-dynamic";

/** The public signing keys: current and previous (until every token they signed has expired). */
export async function GET() {
  try {
    return Response.json(await publicJwks(await getDb()), { headers: { "Cache-Control": "public, max-age=60" } });
  } catch (err) {
    console.error("jwks:", err);
    return Response.json({ error: { code: "unavailable", message: "The keys cannot be read right now." } }, { status: 503 });
  }
}
