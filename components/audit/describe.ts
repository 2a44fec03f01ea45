/**
 * Audit events in words, for the table, the detail drawer and the user timeline: a tone per action
 * (so "SDK session revoked" is not the green of "started"), where an event's target lives in the
 * console, and its details as labelled lines — never raw JSON.
 */
import { formatUtc } from "@/components/ui/format";

export type Tone = "good" | "bad" | "warn" | "info" | "neutral";

const ENDED = /\.(revoked|disabled|deleted|cancelled|tokens_revoked|reuse_detected|refresh_reuse_detected)$/;
const REFUSED = /(\.rejected|_failed)$/;
const BEGAN = /\.(created|started|issued|redeemed|completed|enabled|registered|login|signed_in|submitted|minted)$/;
const QUIET = /\.(expired|signed_out)$/;

/** What kind of thing happened: something ended (red), was refused (amber), began (green)… */
export function actionTone(action: string, outcome: string = "success"): Tone {
  if (outcome === "failure") return "bad";
  if (outcome === "denied" || REFUSED.test(action)) return "warn";
  if (ENDED.test(action)) return "bad";
  if (BEGAN.test(action)) return "good";
  if (QUIET.test(action)) return "neutral";
  return "info";
}

export const TONE_DOT: Record<Tone, string> = {
  good: "bg-emerald-500",
  bad: "bg-red-500",
  warn: "bg-amber-500",
  info: "bg-indigo-500",
  neutral: "bg-slate-400",
};

const str = (v: unknown) => (typeof v === "string" && v ? v : null);

/** The console page of an event's target, when there is one. */
export function targetHref(type: string | null, id: string | null, details: Record<string, unknown> = {}): string | null {
  if (!type || !id) return null;
  switch (type) {
    case "user":
      return `/users/${id}`;
    case "sdk_session":
      return str(details.userId) ? `/users/${details.userId}#session-${id}` : null;
    case "device":
      return `/devices/${id}`;
    case "api_key":
      return `/migrations?apiKeyId=${id}`;
    case "idv_session":
      return `/handoffs/${id}`;
    case "ephemeral_token":
      return str(details.sessionId) ? `/handoffs/${details.sessionId}` : null;
    case "staff":
      return "/staff";
    case "workflow":
      return "/workflows";
    case "instance":
      return "/instances";
    default:
      return null;
  }
}

export const TARGET_LABELS: Record<string, string> = {
  user: "User",
  sdk_session: "SDK session",
  device: "Device",
  api_key: "API key",
  idv_session: "IDV handoff",
  ephemeral_token: "Ephemeral token",
  staff: "Staff member",
  workflow: "Workflow",
  instance: "Instance",
  environment: "Environment",
  signing_key: "Signing key",
  security: "Sign-in security",
};

const LABELS: Record<string, string> = {
  userId: "User",
  clientUserId: "Client user id",
  sessionId: "Session",
  signInTokenId: "Sign-in token",
  installationId: "Installation",
  apiKeyId: "API key",
  apiKeyPrefix: "API key prefix",
  migratedFromKeyId: "Migrated from API key",
  previousUserId: "Previous user id",
  refreshTokenId: "Refresh token",
  expiresInSeconds: "Valid for",
  expiresAt: "Expires",
  sessionsEnded: "Sessions ended",
  deviceId: "Device",
  deviceTokenPrefix: "DeviceToken prefix",
  instanceId: "Instance",
  instanceName: "Instance",
  workflowId: "Workflow",
  eventsChecked: "Events checked",
  sealsChecked: "Seals checked",
  revokedRefreshTokens: "Refresh tokens revoked",
  jwtTtlSeconds: "JWT lifetime (s)",
  refreshTtlSeconds: "Refresh lifetime (s)",
  previousKid: "Previous key id",
  kid: "Key id",
  all: "Every session",
  changed: "Changed",
  previousName: "Name before",
  previousEmail: "Email before",
  via: "Through",
};

/** `apiKeyPrefix` → "Api key prefix": the fallback for keys the table above does not know. */
export function humanizeKey(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_.]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function durationText(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? "" : "s"}`;
  return `${seconds} seconds`;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

function valueText(key: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return key === "expiresInSeconds" ? durationText(value) : value.toLocaleString("en-US");
  if (typeof value === "string") return ISO.test(value) ? formatUtc(value, { seconds: true }) : value;
  if (Array.isArray(value)) return value.length ? value.map((v) => valueText(key, v)).join(", ") : "none";
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${LABELS[k] ?? humanizeKey(k)}: ${valueText(k, v)}`)
    .join("; ");
}

function detailHref(key: string, value: unknown, details: Record<string, unknown>): string | undefined {
  const id = str(value);
  if (!id) return undefined;
  if (key === "userId" || key === "previousUserId") return `/users/${id}`;
  if (key === "apiKeyId" || key === "migratedFromKeyId") return `/migrations?apiKeyId=${id}`;
  if (key === "deviceId") return `/devices/${id}`;
  if (key === "sessionId") return str(details.userId) ? `/users/${details.userId}#session-${id}` : `/handoffs/${id}`;
  return undefined;
}

export interface DetailLine {
  key: string;
  label: string;
  text: string;
  href?: string;
  /** Ids and prefixes read better in a monospace font. */
  mono: boolean;
}

/** An event's details as labelled lines, ids linked to their pages. */
export function detailLines(details: Record<string, unknown>): DetailLine[] {
  return Object.entries(details)
    .filter(([, v]) => v !== undefined)
    .map(([key, value]) => ({
      key,
      label: LABELS[key] ?? humanizeKey(key),
      text: valueText(key, value),
      href: detailHref(key, value, details),
      mono: /(Id|Prefix|kid)$/i.test(key),
    }));
}
