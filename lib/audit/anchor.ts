/**
 * Anchors: the newest seal's number and digest, written down outside the database (a file on
 * another machine, a ticket, a notary service). Whoever can write to the database can cut the log's
 * tail back to an older seal — every older seal still verifies — but cannot make the database reach
 * an anchor again: seal #N has that digest only while every event up to it is still there, because
 * each seal's digest covers its events and the digest of the seal before it.
 *
 * Text form: `<seal number>:<digest>`, e.g. `1042:Qm3…`. A file of anchors (`tokendesk audit anchor
 * --append FILE`) has one per line, newest last, each after its time.
 */
import type { SealHead } from "./seal";

/** A bare digest (no number) is accepted too: then any seal with that digest reaches it. */
export interface AuditAnchor {
  seq: number | null;
  digest: string;
}

/** Seal digests are base64url HMAC-SHA256: 43 characters. */
const DIGEST = "[A-Za-z0-9_-]{43}";
const ANCHOR_RE = new RegExp(`(?:^|\\s)(\\d{1,15}):(${DIGEST})(?=\\s|$)`);
const BARE_DIGEST_RE = new RegExp(`^${DIGEST}$`);

export function formatAnchor(a: { seq: number; digest: string }): string {
  return `${a.seq}:${a.digest}`;
}

/** The line `audit anchor --append` writes: the time, then the anchor. */
export function anchorLine(head: SealHead, now = new Date()): string {
  return `${now.toISOString()} ${formatAnchor(head)}`;
}

/**
 * The anchor a text names: `N:digest` on the last line that has one (a file of anchors is read
 * newest-last), or a bare digest; null when there is none.
 */
export function parseAnchorText(text: string): AuditAnchor | null {
  const trimmed = text.trim();
  if (BARE_DIGEST_RE.test(trimmed)) return { seq: null, digest: trimmed };
  const lines = trimmed.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = ANCHOR_RE.exec(lines[i]!.trim());
    if (m) return { seq: Number(m[1]), digest: m[2]! };
  }
  return null;
}
