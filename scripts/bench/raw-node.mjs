#!/usr/bin/env node
/**
 * The floor of the benchmark: the empty answer of GET /api/live from Node's own http server, with
 * nothing else in the process. `node scripts/bench/raw-node.mjs <port>` prints "ready" once listening.
 */
import http from "node:http";

const port = Number(process.argv[2] ?? 3795);
const body = '{"status":"ok"}';
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", "content-length": body.length });
  res.end(body);
});
server.listen(port, "127.0.0.1", () => console.log(`ready http://127.0.0.1:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
