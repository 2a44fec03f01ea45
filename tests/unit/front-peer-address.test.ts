/**
 * Rate limits count a client by its address: behind a trusted proxy the IP its header names, and
 * without one the socket's peer, which the front writes for the adapters — a client cannot claim
 * another address by sending the front's header itself.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/config/env";
import { createFront } from "@/server/front";
import { requestMetaFrom } from "@/server/http";

const globalForConfig = globalThis as unknown as { __tokendeskConfig?: unknown };
afterEach(() => {
  globalForConfig.__tokendeskConfig = undefined;
});

/** A front whose "Next" answers with the request meta an adapter would build. */
async function metaThroughFront(trustedProxy: string, headers: Record<string, string>) {
  globalForConfig.__tokendeskConfig = parseConfig({ ...process.env, TRUSTED_PROXY: trustedProxy });
  const server = createFront({
    next: (req, res) => {
      const h = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") h.set(k, v);
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(requestMetaFrom(h)));
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/login`, { headers });
    return (await res.json()) as { ip: string | null; clientAddress: string | null };
  } finally {
    server.close();
  }
}

describe("the client address rate limits count by", () => {
  it("without a trusted proxy: the socket's peer, whatever the client claims", async () => {
    const meta = await metaThroughFront("", { "X-Tokendesk-Peer-Address": "203.0.113.9", "X-Forwarded-For": "198.51.100.1" });
    expect(meta.clientAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    // The audit log's IP stays what it was: none without a trusted proxy.
    expect(meta.ip).toBeNull();
  });

  it("behind a trusted proxy: the client IP of its header, never the proxy's own address", async () => {
    expect(await metaThroughFront("x-forwarded-for", { "X-Forwarded-For": "198.51.100.1" })).toMatchObject({
      ip: "198.51.100.1",
      clientAddress: "198.51.100.1",
    });
    expect(await metaThroughFront("x-forwarded-for", {})).toMatchObject({ ip: null, clientAddress: null });
  });
});
