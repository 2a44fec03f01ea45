/**
 * Ids as tokendesk reads them from the outside (paths, forms, filters) and as it mints them (`newId`).
 *
 * Any UUID PostgreSQL's `uuid` type takes in its canonical form, whatever its version bits: ids read
 * are looked up, not checked for a version (z.uuid() insists on RFC 9562 version/variant nibbles, which refused
 * ids of imported data and made the benchmark's generated ids fall through to substring search).
 */
import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_SHAPE.test(value);
}

/**
 * A new id: a UUID v7 as uuid's `v7()` makes it (time-ordered, and in order within a millisecond
 * in this process), with its random bytes taken from a pool filled 512 ids at a time instead of one
 * `crypto.getRandomValues` call per id — that call, wrapped by Next's in-process patch for its
 * prerender checks, cost ~5–13 µs per id, and an exchange makes five. Ids are unique, not secret.
 */
export function newId(): string {
  if (poolUsed === randomPool.length) {
    randomFillSync(randomPool);
    poolUsed = 0;
  }
  const random = randomPool.subarray(poolUsed, poolUsed + 16);
  poolUsed += 16;
  // uuid's own state rule: a new millisecond starts a random sequence, the same one counts up.
  const now = Date.now();
  if (now > v7State.msecs) {
    v7State.msecs = now;
    v7State.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    v7State.seq = (v7State.seq + 1) | 0;
    if (v7State.seq === 0) v7State.msecs++;
  }
  return v7({ random, msecs: v7State.msecs, seq: v7State.seq });
}

const randomPool = new Uint8Array(16 * 512);
let poolUsed = randomPool.length;
const v7State = { msecs: -Infinity, seq: 0 };
