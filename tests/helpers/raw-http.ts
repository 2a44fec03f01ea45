/**
 * One HTTP request over a raw `node:http` connection, for tests that send what `fetch` will not or
 * cannot: bodies of tens of megabytes that the server refuses while they are still being written,
 * chunked bodies, any header.
 *
 * A server that refuses a body by its declared length answers (413 / 411 / 431) and closes the
 * connection while the client is still writing. `fetch` then fails as a whole ("fetch failed") and
 * the answer is lost. Here the status is recorded as soon as the answer's head arrives, writing
 * stops at that moment, and a broken pipe or reset that comes *after* an answer is what such a
 * refusal looks like on the wire, not a failure. One that comes before any answer still fails the
 * request: a server that drops the connection without answering is a defect these tests must see.
 */
import http from "node:http";
import net from "node:net";
import { baseUrl } from "./machine-api";

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The answer's body as far as it arrived (all of it unless `cut` says otherwise). */
  body: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: unknown;
  /** How many body bytes were written before the answer arrived (or all of them). */
  sent: number;
  /** EPIPE / ECONNRESET met after the answer's head: the server closed while we still wrote. */
  cut: string | null;
}

export interface RawOptions {
  headers?: Record<string, string>;
  /** The body: bytes to write, or a number of bytes ("a" × n) to stream. */
  body?: Buffer | string | number;
  /** Send the body chunked (no Content-Length) instead of with its length. */
  chunked?: boolean;
}

const CHUNK = 64 * 1024;
const AFTER_ANSWER = new Set(["EPIPE", "ECONNRESET", "ERR_STREAM_DESTROYED", "ERR_STREAM_WRITE_AFTER_END"]);

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * Sends `method path` to the shared test server (or `opts.url`'s origin) and resolves with the
 * answer. The body goes out in 64 KiB writes, each after the previous one drained, and stops as
 * soon as an answer has arrived: a server that answers before reading everything is what the
 * callers look for (`sent` < the body's size).
 */
export function rawRequest(method: string, path: string, opts: RawOptions & { origin?: string } = {}): Promise<RawAnswer> {
  const url = new URL(path, opts.origin ?? baseUrl());
  const body: Buffer | null =
    typeof opts.body === "number" ? null : opts.body === undefined ? null : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body, "utf8");
  const total = typeof opts.body === "number" ? opts.body : (body?.length ?? 0);
  const headers: Record<string, string> = { ...opts.headers };
  const lower = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  if (opts.body !== undefined && !lower.has("content-length") && !lower.has("transfer-encoding")) {
    if (opts.chunked) headers["Transfer-Encoding"] = "chunked";
    else headers["Content-Length"] = String(total);
  }

  return new Promise((resolve, reject) => {
    let sent = 0;
    let answer: Omit<RawAnswer, "body" | "json" | "sent" | "cut"> | null = null;
    let text = "";
    let settled = false;
    const finish = (cut: string | null) => {
      if (settled || !answer) return;
      settled = true;
      resolve({ ...answer, body: text, json: parseJson(text), sent, cut });
      req.destroy();
    };
    const fail = (err: NodeJS.ErrnoException) => {
      if (settled) return;
      if (answer && AFTER_ANSWER.has(err.code ?? "")) return finish(err.code ?? "closed");
      settled = true;
      reject(new Error(`${method} ${path}: the connection failed before any answer (${err.code ?? err.message}) after ${sent} of ${total} body bytes`));
    };
    const req = http.request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers, agent: false }, (res) => {
      answer = { status: res.statusCode!, headers: res.headers };
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => finish(null));
      res.on("error", fail);
      res.on("aborted", () => finish("ECONNRESET"));
      res.on("close", () => finish(res.complete ? null : "ECONNRESET"));
    });
    req.on("error", fail);

    if (opts.body === undefined) {
      req.end();
      return;
    }
    const filler = typeof opts.body === "number" ? Buffer.alloc(Math.min(CHUNK, total), 0x61) : null;
    const pump = () => {
      while (sent < total && !answer && !req.destroyed) {
        const n = Math.min(CHUNK, total - sent);
        const piece = filler ? filler.subarray(0, n) : body!.subarray(sent, sent + n);
        sent += n;
        // Wait for the write to drain before the next one, so an early answer is read in between.
        if (!req.write(piece)) return void req.once("drain", () => setImmediate(pump));
      }
      // Everything written (or an answer arrived: then the rest is never sent, and the request stays
      // open until the answer ends — ending it short would be a different, malformed request).
      if (!answer && !req.destroyed) req.end();
    };
    pump();
  });
}

/**
 * An uploader that ignores the answer, as an attacker would: over a bare TCP connection, the request
 * head and then `total` body bytes (declared, or chunked when `headers` says so) as fast as the
 * connection takes them, whatever the server answers, until all is written or the connection ends
 * (the server's close or reset). An HTTP client would stop once its answer and the server's close
 * arrive; this one does not. Resolves with the status the server answered (0: none) and how many
 * body bytes the connection took.
 */
export function relentlessUpload(method: string, path: string, headers: Record<string, string>, total: number): Promise<{ status: number; sent: number }> {
  const url = new URL(path, baseUrl());
  const chunked = Object.entries(headers).some(([k, v]) => k.toLowerCase() === "transfer-encoding" && v === "chunked");
  const head = [`${method} ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
  return new Promise((resolve) => {
    let status = 0;
    let sent = 0;
    let received = "";
    // Half-open: the server's close of its side does not end ours (a plain client would stop writing).
    const socket = net.connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
    const finish = () => {
      socket.destroy();
      resolve({ status, sent });
    };
    socket.on("data", (d: Buffer) => {
      if (status) return;
      received += d.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (m) status = Number(m[1]);
    });
    socket.on("error", () => {});
    socket.on("close", finish);
    const piece = Buffer.alloc(CHUNK, 0x61);
    const framed = chunked ? Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece;
    const pump = () => {
      while (sent < total && !socket.destroyed) {
        sent += CHUNK;
        if (!socket.write(framed)) return void socket.once("drain", pump);
      }
      if (!socket.destroyed) socket.end(chunked ? "0\r\n\r\n" : "");
    };
    socket.once("connect", () => {
      socket.write(head);
      pump();
    });
  });
}
