// The web app's backend: serves the page (app.js bundled with esbuild) and mints sign-in tokens
// for the signed-in app user with Junction's Node SDK. tokendesk must list this app's origin in
// CORS_ALLOWED_ORIGINS (e.g. http://127.0.0.1:5173). Scopes the key needs: users:write, sign_in_tokens:write.
//   TOKENDESK_URL=http://localhost:3000 TOKENDESK_API_KEY=sk_us_… PORT=5173 node server.mjs
import fs from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { VitalClient, VitalError } from "@tryvital/vital-node";
import { build } from "esbuild";

const port = Number(process.env.PORT ?? 5173);
const tokendeskUrl = process.env.TOKENDESK_URL ?? "http://localhost:3000";
const vital = new VitalClient({ apiKey: process.env.TOKENDESK_API_KEY, baseUrl: tokendeskUrl });

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const page = fs.readFileSync(here("./index.html"), "utf8");
const { outputFiles } = await build({ entryPoints: [here("./app.js")], bundle: true, format: "esm", platform: "browser", target: "es2022", write: false });
const script = outputFiles[0].text;

async function userFor(clientUserId) {
  try {
    return (await vital.user.create({ clientUserId })).userId;
  } catch (err) {
    if (err instanceof VitalError && err.statusCode === 409) return err.body.error.user_id;
    throw err;
  }
}

async function readJson(req) {
  let text = "";
  for await (const chunk of req) text += chunk;
  return JSON.parse(text || "{}");
}

http
  .createServer(async (req, res) => {
    try {
      if (req.method === "GET" && req.url === "/") return res.writeHead(200, { "Content-Type": "text/html" }).end(page);
      if (req.method === "GET" && req.url === "/app.js") return res.writeHead(200, { "Content-Type": "text/javascript" }).end(script);
      if (req.method === "GET" && req.url === "/config.json")
        return res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ tokendeskUrl }));
      if (req.method === "POST" && req.url === "/api/tokendesk-sign-in-token") {
        // Your own authentication decides who the user is; this example trusts the page's word.
        const { user } = await readJson(req);
        if (typeof user !== "string" || !user) return res.writeHead(401).end();
        const { signInToken } = await vital.user.getUserSignInToken(await userFor(user));
        return res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(JSON.stringify({ signInToken }));
      }
      res.writeHead(404).end();
    } catch (err) {
      console.error(err);
      res.writeHead(502).end();
    }
  })
  .listen(port, "127.0.0.1", () => console.log(`example web app on http://127.0.0.1:${port}`));
