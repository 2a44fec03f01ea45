/**
 * The API reference: `GET /openapi.json` (server/openapi/document.ts) and `GET /docs/api`, a page that
 * renders it with Scalar's standalone bundle, served from this deployment (no CDN: the page works
 * offline and under a CSP that allows only this origin).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { config } from "@/lib/config/env";
import pkg from "@/package.json";
import { openApiDocument } from "../openapi/document";

/** GET /openapi.json — the OpenAPI 3.1 document; `servers` is this deployment's PUBLIC_URL. */
export async function openApiRoute(): Promise<Response> {
  return Response.json(openApiDocument(config().publicUrl, pkg.version), { headers: { "Cache-Control": "public, max-age=300" } });
}

// The page loads only what this origin serves; Scalar needs inline styles and data: fonts/images.
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>tokendesk API reference</title>
  </head>
  <body>
    <noscript>The reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script id="api-reference" data-url="/openapi.json" data-configuration='{"withDefaultFonts":false,"hideClientButton":true,"telemetry":false}'></script>
    <script src="/docs/api/reference.js"></script>
  </body>
</html>
`;

/** GET /docs/api — the rendered reference. */
export async function docsPageRoute(): Promise<Response> {
  return new Response(PAGE, {
    headers: { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_CSP, "Cache-Control": "public, max-age=300" },
  });
}

let bundle: Promise<Buffer> | null = null;

/** GET /docs/api/reference.js — Scalar's standalone bundle from node_modules, read once. */
export async function docsScriptRoute(): Promise<Response> {
  bundle ??= fs.readFile(path.join(process.cwd(), "node_modules", "@scalar", "api-reference", "dist", "browser", "standalone.js"));
  try {
    return new Response(new Uint8Array(await bundle), {
      headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=86400" },
    });
  } catch {
    bundle = null;
    return Response.json({ error: { code: "unavailable", message: "The reference's script is not installed." } }, { status: 503 });
  }
}
