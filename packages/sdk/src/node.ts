/**
 * Node-only storage for the SDK (servers, scripts, CLIs, tests): one JSON file, written with owner-only
 * permissions and renamed into place so that a crash never leaves half a file. Processes that share
 * the file take turns through an exclusive lock file next to it (`<file>.lock`, proper-lockfile):
 * a holder that dies leaves a lock that goes stale after 10 s instead of blocking everyone.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import lockfile from "proper-lockfile";
import type { SdkStorage } from "./storage";

export function fileStorage(file: string): SdkStorage {
  const target = path.resolve(file);
  async function read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await fs.readFile(target, "utf8")) as Record<string, string>;
    } catch {
      return {};
    }
  }
  async function write(data: Record<string, string>): Promise<void> {
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(data, null, 2), { mode: 0o600 });
    await fs.rename(tmp, target);
  }
  return {
    name: `file:${target}`,
    get: async (k) => (await read())[k] ?? null,
    set: async (k, v) => write({ ...(await read()), [k]: v }),
    remove: async (k) => {
      const data = await read();
      delete data[k];
      await write(data);
    },
    async lock<T>(fn: () => Promise<T>): Promise<T> {
      await fs.mkdir(path.dirname(target), { recursive: true });
      const release = await lockfile.lock(target, {
        realpath: false, // the state file may not exist yet
        lockfilePath: `${target}.lock`,
        stale: 10_000,
        // A holder keeps the lock for one request at most (the client's timeout); wait it out.
        retries: { forever: true, minTimeout: 5, maxTimeout: 50, randomize: true },
        // A lock we could not keep fresh (a stalled event loop) must not crash the app: the next
        // change re-reads the file under a new lock anyway.
        onCompromised: () => undefined,
      });
      try {
        return await fn();
      } finally {
        await release().catch(() => undefined);
      }
    },
  };
}
