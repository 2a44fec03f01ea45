import "server-only";
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { headers } from "next/headers";
import { config } from "@/lib/config/env";
import type { RequestMeta } from "@/lib/context";

/**
 * The client IP, only from the header of a configured trusted proxy and only if it parses as an IP:
 * without a proxy in front, any such header is the client's own word and is ignored.
 */
export function clientIp(h: Headers): string | null {
  const header = config().trustedProxyHeader;
  if (!header) return null;
  const raw = h.get(header);
  if (!raw) return null;
  // X-Forwarded-For: "client, proxy1, proxy2" — the proxy we trust appended the last hop, so the
  // client is the right-most entry the proxy itself wrote: with one trusted proxy, the last one.
  const candidate =
    header === "x-forwarded-for"
      ? raw
          .split(",")
          .map((s) => s.trim())
          .pop()
      : raw.trim();
  return candidate && isIP(candidate) ? candidate : null;
}

export function requestMetaFrom(h: Headers): RequestMeta {
  const given = h.get("x-request-id");
  return {
    requestId: given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID(),
    ip: clientIp(h),
    userAgent: h.get("user-agent"),
  };
}

/** Request metadata inside a server component, server action or route handler. */
export async function requestMeta(): Promise<RequestMeta> {
  return requestMetaFrom(await headers());
}
