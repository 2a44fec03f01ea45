/** Staff passwords: argon2id (OWASP parameters), through @node-rs/argon2's prebuilt binaries. */
import { hash, verify } from "@node-rs/argon2";

// Algorithm.Argon2id === 2; the const enum is not importable under isolatedModules.
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Verifying against this when the account does not exist keeps the answer time the same. */
let dummyHash: Promise<string> | null = null;

/** Spends the time of a real check for an account that does not exist; always false. */
export async function verifyDummyPassword(password: string): Promise<false> {
  dummyHash ??= hashPassword("tokendesk-timing-equaliser");
  await verifyPassword(await dummyHash, password);
  return false;
}
