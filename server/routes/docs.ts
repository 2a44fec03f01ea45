/**
 * The API reference: `GET /openapi.json` (server/openapi/document.ts) and `GET /docs/api`, a page that
 * renders it with Redoc's standalone bundle, served from this deployment (no CDN: the page works
 * offline and under a CSP that allows only this origin). Redoc rather than Scalar: Scalar's package
 * pulls 262 packages (~170 MB, an AI chat client among them) and wants Node 22 to serve one file.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { config } from "@/lib/config/env";
import pkg from "@/package.json";
import { jsonResponse } from "../http";
import { openApiDocument } from "../openapi/document";

/** GET /openapi.json — the OpenAPI 3.1 document; `servers` is this deployment's PUBLIC_URL. */
export async function openApiRoute(): Promise<Response> {
  return jsonResponse(openApiDocument(config().publicUrl, pkg.version), { headers: { "Cache-Control": "public, max-age=300" } });
}

// The page loads only what this origin serves; Redoc needs inline styles (styled-components),
// data: images and a blob: worker for its search.
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>tokendesk API reference</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <noscript>The reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <redoc spec-url="/openapi.json" hide-download-button="false" native-scrollbars></redoc>
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

/** GET /docs/api/reference.js — Redoc's standalone bundle from node_modules, read once. */
export async function docsScriptRoute(): Promise<Response> {
  bundle ??= fs.readFile(path.join(process.cwd(), "node_modules", "redoc", "bundles", "redoc.standalone.js"));
  try {
    return new Response(new Uint8Array(await bundle), {
      headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=86400" },
    });
  } catch {
    bundle = null;
    return jsonResponse({ error: { code: "unavailable", message: "The reference's script is not installed." } }, { status: 503 });
  }
}
