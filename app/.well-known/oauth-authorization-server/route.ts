import { config } from "@/lib/config/env";
import { authorizationServerMetadata } from "@/lib/oauth/metadata";

export const dynamic = "force-dynamic";

/** RFC 8414 metadata; the issuer is this deployment's PUBLIC_URL. */
export function GET() {
  return Response.json(authorizationServerMetadata(config().publicUrl), { headers: { "Cache-Control": "public, max-age=300" } });
}
