/**
 * Who is acting and through which request. Every domain operation receives an `Actor` (checked for
 * permission inside the operation) and a `RequestMeta` (copied into the audit event).
 */
import type { StaffRole } from "@/lib/staff/rbac";

export type Actor =
  | {
      type: "staff";
      id: string;
      name: string;
      role: StaffRole;
      /** Set when production actions need a second factor or SSO and this session has neither. */
      productionLocked?: boolean;
    }
  | { type: "system"; id: string; name: string }
  | { type: "anonymous"; id: null; name: string | null }
  | { type: "api_key"; id: string; name: string; environment: string; region: string; scopes: string[] }
  | { type: "user"; id: string; name: string | null }
  | { type: "ephemeral_token"; id: string; name: string | null }
  | { type: "device"; id: string; name: string | null };

export interface RequestMeta {
  requestId: string | null;
  /** The client's IP for the audit log: only from a trusted proxy's header. */
  ip: string | null;
  userAgent: string | null;
  /**
   * The address rate limits count the client by: the trusted proxy's client IP, else the socket's
   * peer address when the adapter knows it. Never audited as the client's IP (without a trusted
   * proxy it may be a load balancer's). Absent: limits fall back to `ip`.
   */
  clientAddress?: string | null;
}

export const NO_REQUEST: RequestMeta = { requestId: null, ip: null, userAgent: null };

export const systemActor = (name = "tokendesk"): Actor => ({ type: "system", id: "system", name });
