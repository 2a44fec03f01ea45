/**
 * The front's limits as an attacker meets them (issue 12 points 1 and 2), over raw HTTP against the
 * production server: an over-long User-Agent and oversized headers are refused before Next on the
 * console, the public pages and every machine family; 50 MB bodies are refused by Content-Length
 * and, sent chunked, by the streamed cap or the console's length requirement — also on next-auth's
 * credentials callback; an IDV upload with a bogus token is answered 401 before its body is read.
 */
import http from "node:http";
import { describe, expect, it } from "vitest";
import { baseUrl } from "../helpers/machine-api";

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request with full control of headers and body: `body` is written as given (a Buffer, or a
 * number of bytes to stream in 64 KiB chunks), and the answer is read as soon as the server sends
 * it — a server that answers before reading everything is what these tests look for.
 */
function raw(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Buffer | number; chunked?: boolean } = {},
): Promise<RawAnswer & { sent: number }> {
  const url = new URL(path, baseUrl());
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = http.request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers: opts.headers, agent: false },
      (res) => {
        answered = true;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body, sent }));
        res.on("error", reject);
      },
    );
    // The server may close the socket after answering while we still write: that is the point.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    if (typeof opts.body === "number") {
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const total = opts.body;
      const pump = () => {
        while (sent < total && !answered && !req.destroyed) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    } else {
      if (opts.body) {
        sent = opts.body.length;
        req.write(opts.body);
      }
      req.end();
    }
  });
}

const FAMILIES: Array<[what: string, method: string, path: string]> = [
  ["console page", "GET", "/users"],
  ["sign-in page", "GET", "/login"],
  ["public IDV page", "GET", "/capture"],
  ["next-auth", "GET", "/api/auth/csrf"],
  ["JSON API", "GET", "/v2/users"],
  ["OAuth", "POST", "/oauth/token"],
  ["telematics", "GET", "/v1/Devices/me"],
  ["liveness", "GET", "/api/live"],
];

describe("headers", () => {
  it.each(FAMILIES)("a 15 KB User-Agent is refused with 431 before Next (%s)", async (_what, method, path) => {
    const res = await raw(method, path, { headers: { "User-Agent": `Mozilla/5.0 ${"a".repeat(15_000)}` } });
    expect(res.status).toBe(431);
    // The front's own sentence, not a page or a route of Next.
    expect(res.body).toMatch(/User-Agent header is longer than 1024 characters/);
  });

  it.each(FAMILIES)("more than 16 KiB of headers are refused with 431 (%s)", async (_what, method, path) => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 20; i++) headers[`X-Pad-${i}`] = "p".repeat(1000);
    const res = await raw(method, path, { headers });
    expect(res.status).toBe(431);
  });

  it("a normal User-Agent still reaches every family", async () => {
    expect((await raw("GET", "/api/live", { headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)" } })).status).toBe(200);
    expect((await raw("GET", "/login", { headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)" } })).status).toBe(200);
  });
});

const FIFTY_MB = 50 * 1024 * 1024;

describe("bodies", () => {
  it.each([
    ["/api/auth/callback/credentials", "application/x-www-form-urlencoded"],
    ["/v2/user", "application/json"],
    ["/oauth/token", "application/x-www-form-urlencoded"],
    ["/v1/Auth/Login", "application/json"],
    ["/api/sessions/00000000-0000-7000-8000-000000000000/steps/document", "application/octet-stream"],
  ])("50 MB declared by Content-Length is refused with 413 before the body is read (%s)", async (path, type) => {
    const res = await raw("POST", path, { headers: { "Content-Type": type, "Content-Length": String(FIFTY_MB) }, body: FIFTY_MB });
    expect(res.status).toBe(413);
    // Answered long before 50 MB went over the wire.
    expect(res.sent).toBeLessThan(FIFTY_MB);
  });

  it("a chunked body to next-auth's credentials callback (no length) is refused with 411 at once", async () => {
    const res = await raw("POST", "/api/auth/callback/credentials", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked" },
      body: FIFTY_MB,
    });
    expect(res.status).toBe(411);
    expect(res.sent).toBeLessThan(FIFTY_MB);
  });

  it.each([
    ["/v2/user", "application/json", 413],
    ["/oauth/token", "application/x-www-form-urlencoded", 413],
    ["/v1/Auth/Login", "application/json", 413],
  ])("a chunked 50 MB body is cut by the streamed cap (%s)", async (path, type, status) => {
    const res = await raw("POST", path, { headers: { "Content-Type": type, "Transfer-Encoding": "chunked", "X-Api-Key": "sk_us_nope" }, body: FIFTY_MB });
    expect([status, 401]).toContain(res.status);
    expect(res.sent).toBeLessThan(FIFTY_MB);
  });

  it("an IDV step upload with a bogus token is answered 401 before its 10 MiB body is read", async () => {
    const size = 10 * 1024 * 1024;
    const res = await raw("POST", "/api/sessions/00000000-0000-7000-8000-000000000000/steps/document", {
      headers: { Authorization: "Bearer eph_bogus", "Content-Type": "image/png", "Content-Length": String(size) },
      body: size,
    });
    expect(res.status).toBe(401);
    expect(res.sent).toBeLessThan(size);
  });
});
