/**
 * One HTTP POST of a signed webhook body to an endpoint: node:http(s) with the SSRF-guarded DNS
 * lookup (ssrf.ts), a deadline, and no redirects followed (node:http never follows them; a 3xx is
 * reported as what it is). Never throws: the outcome says what happened, for the dispatcher to
 * classify and for the console to show.
 */
import http from "node:http";
import https from "node:https";
import { assertPublicHost, guardedLookup, type LookupAll, WebhookDestinationRefused } from "./ssrf";

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Tests replace DNS; production uses the system resolver. */
  resolve?: LookupAll;
}

export interface PostOutcome {
  /** The response status, or null when no response came (network error, timeout, refusal). */
  status: number | null;
  /** Why there was no (acceptable) response, in words for the console. */
  error: string | null;
  /** The destination was refused by the SSRF guard: a permanent failure. */
  refused: boolean;
  /** A 429/503's Retry-After, in seconds, when it gave one. */
  retryAfterSeconds: number | null;
  durationMs: number;
}

/** Responses are read only to free the connection; a receiver that sends more is cut off. */
const MAX_RESPONSE_BYTES = 64 * 1024;

// Keep-alive pools, one per protocol and policy: a socket opened while private addresses were
// allowed must never serve a request that forbids them.
const agents = new Map<string, http.Agent>();
function agentFor(protocol: "http:" | "https:", allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8, timeout: 30_000 };
    agent = protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
    agents.set(key, agent);
  }
  return agent;
}

function retryAfterOf(value: string | string[] | undefined): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function describeError(err: NodeJS.ErrnoException): string {
  if (err instanceof WebhookDestinationRefused) return err.message;
  switch (err.code) {
    case "ECONNREFUSED":
      return "Connection refused.";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `The host name did not resolve (${err.code}).`;
    case "ECONNRESET":
      return "The connection was reset.";
    case "ETIMEDOUT":
      return "The connection timed out.";
    default:
      return err.message || String(err.code ?? "network error");
  }
}

export function postWebhook(opts: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(opts.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new WebhookDestinationRefused("Only http and https URLs are allowed.");
    assertPublicHost(url.hostname, opts.allowPrivate);
  } catch (err) {
    const error = err instanceof WebhookDestinationRefused ? err.message : "The endpoint URL is not valid.";
    return Promise.resolve({ status: null, error, refused: true, retryAfterSeconds: null, durationMs: elapsed() });
  }
  const protocol = url.protocol as "http:" | "https:";

  return new Promise((resolve) => {
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const finish = (outcome: Omit<PostOutcome, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ ...outcome, durationMs: elapsed() });
    };
    const fail = (err: NodeJS.ErrnoException) =>
      finish({ status: null, error: describeError(err), refused: err instanceof WebhookDestinationRefused, retryAfterSeconds: null });

    const request = (protocol === "https:" ? https : http).request(
      url,
      {
        method: "POST",
        headers: { ...opts.headers, "content-length": String(Buffer.byteLength(opts.body)) },
        agent: agentFor(protocol, opts.allowPrivate),
        lookup: guardedLookup(opts.allowPrivate, opts.resolve) as never,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let received = 0;
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on("error", () => {});
        res.on("close", () => {
          const redirect = status >= 300 && status < 400;
          finish({
            status,
            error: redirect ? `Redirects are not followed (${status} to ${String(res.headers.location ?? "nowhere")}).` : null,
            refused: false,
            retryAfterSeconds: status === 429 || status === 503 ? retryAfterOf(res.headers["retry-after"]) : null,
          });
        });
      },
    );
    deadline = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error(`No response within ${Math.round(opts.timeoutMs / 1000)} s.`);
      err.code = "TIMEOUT";
      fail(err);
      request.destroy(err);
    }, opts.timeoutMs);
    request.on("error", fail);
    request.end(opts.body);
  });
}
