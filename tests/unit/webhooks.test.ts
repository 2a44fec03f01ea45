/**
 * Webhooks without a database: the retry schedule, how outcomes are classified, the SSRF guard
 * (addresses, DNS answers, IP literals, redirects) against real loopback servers, and signatures
 * checked with the `standardwebhooks` library a receiver would use.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyOutcome, RETRY_MAX_DELAY_MS, retryDelayMs } from "@/lib/webhooks/dispatcher";
import { WEBHOOK_EVENT_TYPES, webhookBody } from "@/lib/webhooks/events";
import { RETRY_WINDOW_MS } from "@/lib/webhooks/outbox";
import { newWebhookSecret, signWebhook } from "@/lib/webhooks/signing";
import { guardedLookup, nonPublicReason } from "@/lib/webhooks/ssrf";
import { postWebhook } from "@/lib/webhooks/transport";

describe("retry schedule", () => {
  it("doubles from 10 s with ±25 % jitter, caps at 4 h, and spreads about 15 attempts over a day", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(10_000);
    expect(retryDelayMs(2, () => 0.5)).toBe(20_000);
    expect(retryDelayMs(5, () => 0.5)).toBe(160_000);
    expect(retryDelayMs(1, () => 0)).toBe(7_500);
    expect(retryDelayMs(1, () => 0.999999)).toBeLessThanOrEqual(12_500);
    expect(retryDelayMs(30, () => 0.5)).toBe(RETRY_MAX_DELAY_MS);
    let elapsed = 0;
    let attempts = 1;
    while (elapsed + retryDelayMs(attempts, () => 0.5) <= RETRY_WINDOW_MS) elapsed += retryDelayMs(attempts++, () => 0.5);
    expect(attempts).toBeGreaterThanOrEqual(12);
    expect(attempts).toBeLessThanOrEqual(20);
    expect(elapsed).toBeGreaterThan(20 * 3600 * 1000);
  });

  it("retries timeouts, network errors, 429 and 5xx; not other 4xx, redirects or refused destinations", () => {
    const c = (status: number | null, refused = false) => classifyOutcome({ status, refused });
    expect(c(200)).toBe("succeeded");
    expect(c(204)).toBe("succeeded");
    expect(c(null)).toBe("retry");
    expect(c(429)).toBe("retry");
    expect(c(500)).toBe("retry");
    expect(c(503)).toBe("retry");
    expect(c(400)).toBe("failed");
    expect(c(404)).toBe("failed");
    expect(c(410)).toBe("failed");
    expect(c(302)).toBe("failed");
    expect(c(null, true)).toBe("failed");
  });
});

describe("SSRF guard", () => {
  it("refuses loopback, private, link-local and other non-public addresses, IPv4-mapped ones too", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.9",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:10.0.0.1",
      "224.0.0.1",
    ]) {
      expect(nonPublicReason(a), a).not.toBeNull();
    }
    expect(nonPublicReason("169.254.169.254")).toMatch(/link-local/);
    expect(nonPublicReason("10.1.2.3")).toMatch(/private/);
    expect(nonPublicReason("127.0.0.1")).toMatch(/loopback/);
    for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]) expect(nonPublicReason(a), a).toBeNull();
  });

  it("judges the addresses DNS answers, all of them, and hands exactly those to the connection", async () => {
    const lookup = (answers: string[], allowPrivate = false) =>
      new Promise<{ err: Error | null; address: unknown }>((resolve) =>
        guardedLookup(allowPrivate, async () => answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })))(
          "hooks.example.test",
          { all: true },
          (err, address) => resolve({ err, address }),
        ),
      );
    expect((await lookup(["10.0.0.5"])).err?.message).toMatch(/hooks\.example\.test \(10\.0\.0\.5\): it is a private address/);
    expect((await lookup(["169.254.169.254"])).err?.message).toMatch(/link-local/);
    // One private answer among public ones is enough to refuse (the connection might pick it).
    expect((await lookup(["93.184.216.34", "127.0.0.1"])).err?.message).toMatch(/loopback/);
    expect(await lookup(["93.184.216.34"])).toEqual({ err: null, address: [{ address: "93.184.216.34", family: 4 }] });
    expect((await lookup(["10.0.0.5"], true)).err).toBeNull();
  });
});

describe("transport", () => {
  let receiver: http.Server;
  let target: http.Server;
  const received: string[] = [];
  let receiverPort = 0;
  let targetPort = 0;

  beforeAll(async () => {
    target = http.createServer((req, res) => {
      received.push(`target ${req.url}`);
      res.end("ok");
    });
    receiver = http.createServer((req, res) => {
      received.push(`receiver ${req.url}`);
      if (req.url === "/redirect") {
        res.writeHead(302, { location: `http://127.0.0.1:${targetPort}/inside` }).end();
        return;
      }
      res.writeHead(204).end();
    });
    await Promise.all([new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r)), new Promise<void>((r) => target.listen(0, "127.0.0.1", r))]);
    receiverPort = (receiver.address() as AddressInfo).port;
    targetPort = (target.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all([new Promise((r) => receiver.close(r)), new Promise((r) => target.close(r))]);
  });

  const send = (url: string, allowPrivate: boolean) => postWebhook({ url, headers: {}, body: "{}", timeoutMs: 5000, allowPrivate });

  it("refuses 127.0.0.1, 10.x and 169.254.x by default, before any connection", async () => {
    received.length = 0;
    for (const url of [`http://127.0.0.1:${receiverPort}/`, "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/"]) {
      const o = await send(url, false);
      expect(o.refused, url).toBe(true);
      expect(o.status).toBeNull();
      expect(o.error).toMatch(/WEBHOOK_ALLOW_PRIVATE=1/);
    }
    // A host name is judged after DNS: localhost resolves to loopback.
    const named = await send(`http://localhost:${receiverPort}/`, false);
    expect(named.refused).toBe(true);
    expect(named.error).toMatch(/localhost \((127\.0\.0\.1|::1)\): it is a loopback address/);
    expect(received).toEqual([]);
  });

  it("delivers to loopback when the operator allows private addresses", async () => {
    received.length = 0;
    const o = await send(`http://127.0.0.1:${receiverPort}/hook`, true);
    expect(o).toMatchObject({ status: 204, error: null, refused: false });
    expect(received).toEqual(["receiver /hook"]);
  });

  it("follows no redirect: a 302 to a private address is reported, and the target never hears of it", async () => {
    received.length = 0;
    const o = await send(`http://127.0.0.1:${receiverPort}/redirect`, true);
    expect(o.status).toBe(302);
    expect(o.error).toMatch(/Redirects are not followed \(302 to http:\/\/127\.0\.0\.1:\d+\/inside\)/);
    expect(classifyOutcome(o)).toBe("failed");
    expect(received).toEqual(["receiver /redirect"]);
  });

  it("reports a refused connection and a timeout as retryable network failures", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await send(`http://127.0.0.1:${port}/`, true);
    expect(refused).toMatchObject({ status: null, refused: false, error: "Connection refused." });
    expect(classifyOutcome(refused)).toBe("retry");

    const silent = http.createServer(() => {}); // never answers
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const slow = await postWebhook({
      url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`,
      headers: {},
      body: "{}",
      timeoutMs: 300,
      allowPrivate: true,
    });
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
    expect(slow).toMatchObject({ status: null, refused: false });
    expect(slow.error).toMatch(/No response within/);
    expect(classifyOutcome(slow)).toBe("retry");
  });
});

describe("signatures", () => {
  it("verify with the standardwebhooks library, with either secret during a rotation's overlap", () => {
    const oldSecret = newWebhookSecret();
    const newSecret = newWebhookSecret();
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify(webhookBody("user.created", new Date(), { user_id: "u1" }));
    const now = new Date();
    const both = signWebhook([newSecret, oldSecret], "msg_1", now, body);
    expect(both["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(newSecret).verify(body, { ...both })).toMatchObject({ type: "user.created", version: 1, data: { user_id: "u1" } });
    expect(new Webhook(oldSecret).verify(body, { ...both })).toMatchObject({ type: "user.created" });
    const onlyNew = signWebhook([newSecret], "msg_1", now, body);
    expect(() => new Webhook(oldSecret).verify(body, { ...onlyNew })).toThrow(/No matching signature/);
    // The signature covers the id and the body.
    expect(() => new Webhook(newSecret).verify(body, { ...onlyNew, "webhook-id": "msg_2" })).toThrow();
    expect(() => new Webhook(newSecret).verify(`${body} `, { ...onlyNew })).toThrow();
  });

  it("documents fifteen event types", () => {
    expect(WEBHOOK_EVENT_TYPES).toHaveLength(15);
  });
});
