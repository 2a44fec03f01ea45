/**
 * Outbound requests to customer-given URLs must not reach tokendesk's own network (SSRF): the
 * cloud metadata service on 169.254.169.254, the database on 10.x, the server itself on 127.0.0.1.
 *
 * The check runs on the addresses the socket actually connects to: `guardedLookup` is passed to
 * node:http as its DNS lookup, resolves the name, refuses unless every address is public unicast,
 * and hands exactly those addresses to the connection — so a name cannot resolve to a public
 * address for the check and a private one for the connection (DNS rebinding). IP literals never go
 * through a lookup, so `assertPublicHost` checks them before the request. Redirects are never
 * followed (transport.ts), so a public endpoint cannot bounce the request inward either.
 * `WEBHOOK_ALLOW_PRIVATE=1` lifts the check, for tests and for receivers on a private network.
 */

import type { LookupAddress, LookupOptions } from "node:dns";
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";

/** A refused destination: a permanent failure, never retried. */
export class WebhookDestinationRefused extends Error {
  override name = "WebhookDestinationRefused";
}

const RANGE_WORDS: Record<string, string> = {
  loopback: "a loopback address",
  private: "a private address",
  linkLocal: "a link-local address",
  uniqueLocal: "a private (unique local) address",
  carrierGradeNat: "a carrier-grade NAT address",
  unspecified: "the unspecified address",
  broadcast: "a broadcast address",
  multicast: "a multicast address",
  reserved: "a reserved address",
};

/** Why `address` may not be a webhook destination, or null if it is public unicast. */
export function nonPublicReason(address: string): string | null {
  if (!ipaddr.isValid(address)) return "not an IP address";
  // process() turns IPv4-mapped IPv6 (::ffff:10.0.0.1) into the IPv4 address it carries.
  const range = ipaddr.process(address).range();
  if (range === "unicast") return null;
  return RANGE_WORDS[range] ?? `a ${range} address`;
}

function refusal(host: string, address: string, reason: string): WebhookDestinationRefused {
  const named = host === address ? address : `${host} (${address})`;
  return new WebhookDestinationRefused(
    `Refused to send to ${named}: it is ${reason}. Webhooks go only to public addresses unless the operator sets WEBHOOK_ALLOW_PRIVATE=1.`,
  );
}

/** For hosts written as IP literals (which never go through a lookup). */
export function assertPublicHost(hostname: string, allowPrivate: boolean): void {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (allowPrivate || !net.isIP(host)) return;
  const reason = nonPublicReason(host);
  if (reason) throw refusal(host, host, reason);
}

export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

const systemLookupAll: LookupAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http/net that resolves with `resolve` (the system resolver by default; tests
 * pass their own) and refuses names with any non-public address.
 */
export function guardedLookup(allowPrivate: boolean, resolve: LookupAll = systemLookupAll) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname)
      .then((addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`${hostname} has no address`);
          err.code = "ENOTFOUND";
          throw err;
        }
        if (!allowPrivate) {
          for (const a of wanted) {
            const reason = nonPublicReason(a.address);
            if (reason) throw refusal(hostname, a.address, reason);
          }
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((err: NodeJS.ErrnoException) => callback(err, ""));
  };
}
