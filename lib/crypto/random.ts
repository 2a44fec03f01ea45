/**
 * Bytes for secrets (tokens, keys) from the CSPRNG, drawn from a pool refilled 8 KB at a time: one
 * `randomBytes(32)` call costs ~9 µs on this machine (a getrandom round into the kernel each time),
 * a slice of the pool ~0.5 µs, and every mint, exchange and refresh makes a token. Each byte is
 * handed out once; the pool holds nothing but the generator's output (Node's `randomUUID` batches
 * its entropy the same way).
 */
import { randomFillSync } from "node:crypto";

const pool = Buffer.alloc(8192);
let used = pool.length;

/** `n` fresh random bytes (a copy: the caller may keep or change them). */
export function secretBytes(n: number): Buffer {
  if (n > pool.length) return randomFillSync(Buffer.alloc(n));
  if (used + n > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}
