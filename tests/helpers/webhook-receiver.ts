/**
 * A webhook receiver for tests and the benchmark: an HTTP server that verifies every delivery with
 * the `standardwebhooks` library (as a customer's backend would) against the secrets it was given,
 * records what arrived, answers what the test asks for, and can go down and come back on its port.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  path: string;
  /** Verified with one of the receiver's secrets (standardwebhooks' `verify`). */
  verified: boolean;
  /** The parsed body, whether or not it verified. */
  payload: { type: string; version: number; timestamp: string; data: Record<string, unknown> } | null;
  /** What the receiver answered. */
  status: number;
}

/** Decides the answer to one delivery (after verification); 204 by default. */
export type Responder = (hook: Omit<ReceivedWebhook, "status">, seen: number) => number | { status: number; headers?: Record<string, string> };

export interface WebhookReceiver {
  port: number;
  /** A URL on this receiver; `host` defaults to 127.0.0.1. */
  url(path?: string, host?: string): string;
  received: ReceivedWebhook[];
  setSecrets(secrets: string[]): void;
  respondWith(fn: Responder): void;
  /** Stops listening (connections refused) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Listens on every interface (so `localhost` works whether it resolves to ::1 or 127.0.0.1). */
export async function startWebhookReceiver(opts: { secrets?: string[]; port?: number } = {}): Promise<WebhookReceiver> {
  let secrets = [...(opts.secrets ?? [])];
  let responder: Responder = () => 204;
  const received: ReceivedWebhook[] = [];
  const seenById = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": String(req.headers["webhook-id"] ?? ""),
        "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
        "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
      };
      let verified = false;
      for (const s of secrets) {
        try {
          new Webhook(s).verify(body, headers);
          verified = true;
          break;
        } catch {
          /* try the next secret */
        }
      }
      let payload: ReceivedWebhook["payload"] = null;
      try {
        payload = JSON.parse(body);
      } catch {
        /* recorded as null */
      }
      const hook = {
        id: headers["webhook-id"],
        timestamp: headers["webhook-timestamp"],
        signature: headers["webhook-signature"],
        path: req.url ?? "/",
        verified,
        payload,
      };
      const seen = (seenById.get(hook.id) ?? 0) + 1;
      seenById.set(hook.id, seen);
      const answer = verified || secrets.length === 0 ? responder(hook, seen) : 401;
      const { status, headers: extra } = typeof answer === "number" ? { status: answer, headers: {} } : answer;
      received.push({ ...hook, status });
      res.writeHead(status, extra).end();
    });
  });

  let port = opts.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, () => {
        server.off("error", reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();

  return {
    get port() {
      return port;
    },
    url: (path = "/webhooks", host = "127.0.0.1") => `http://${host}:${port}${path}`,
    received,
    setSecrets: (s) => {
      secrets = [...s];
    },
    respondWith: (fn) => {
      responder = fn;
    },
    down: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    up: listen,
    close: async () => {
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
