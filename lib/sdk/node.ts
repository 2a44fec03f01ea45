/** Node-only storage for the SDK (the CLI device simulator, server-side tests): one JSON file. */
import fs from "node:fs/promises";
import path from "node:path";
import type { SdkStorage } from "./storage";

export function fileStorage(file: string): SdkStorage {
  async function read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await fs.readFile(file, "utf8")) as Record<string, string>;
    } catch {
      return {};
    }
  }
  async function write(data: Record<string, string>): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    // Written with owner-only permissions and renamed into place, so a crash never leaves half a file.
    await fs.writeFile(tmp, JSON.stringify(data, null, 2), { mode: 0o600 });
    await fs.rename(tmp, file);
  }
  return {
    get: async (k) => (await read())[k] ?? null,
    set: async (k, v) => write({ ...(await read()), [k]: v }),
    remove: async (k) => {
      const data = await read();
      delete data[k];
      await write(data);
    },
  };
}
