/**
 * PGlite is single-process: a second process opening the same data directory would corrupt it.
 * db/client.ts guards the directory with a pid lock file; a real second process must be refused
 * with a sentence, and a lock left by a dead process must not block the next start.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DatabaseHandle, migrateDatabase, openDatabase } from "@/db/client";
import { ROOT } from "../helpers/server";

// Child processes start Node, tsx and PGlite: seconds each, far more on a loaded machine.
vi.setConfig({ testTimeout: 300_000 });

const dirs: string[] = [];
const handles: DatabaseHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "td-lock-"));
  dirs.push(d);
  return d;
}

/** Opens `dataDir` from a separate Node process and reports what happened, as JSON. */
function openInChild(dataDir: string): { opened: boolean; name?: string; message?: string } {
  const script = path.join(tempDir(), "open.mts");
  fs.writeFileSync(
    script,
    `import { openDatabase } from ${JSON.stringify(path.join(ROOT, "db", "client.ts"))};
     try {
       const h = await openDatabase({ databaseUrl: null, dataDir: process.argv[2] });
       await h.close();
       console.log(JSON.stringify({ opened: true }));
     } catch (err) {
       console.log(JSON.stringify({ opened: false, name: err.name, message: err.message }));
     }`,
  );
  const r = spawnSync(process.execPath, ["--import", "tsx", script, dataDir], { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as { opened: boolean; name?: string; message?: string };
  } catch {
    throw new Error(`child did not report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

describe("the embedded data directory lock", () => {
  it("refuses a second process while the first holds the directory, and lets it in afterwards", async () => {
    const dataDir = tempDir();
    const first = await openDatabase({ databaseUrl: null, dataDir });
    handles.push(first);
    await migrateDatabase(first);
    expect(fs.readFileSync(path.join(dataDir, "pglite.lock"), "utf8").trim()).toBe(String(process.pid));

    const refused = openInChild(dataDir);
    expect(refused).toEqual({
      opened: false,
      name: "EmbeddedDatabaseBusyError",
      message:
        `The embedded database in ${dataDir} is in use by another tokendesk process (pid ${process.pid}); ` +
        "stop that process first, or point both at PostgreSQL with DATABASE_URL.",
    });
    // The refused process left the owner's lock alone.
    expect(fs.readFileSync(path.join(dataDir, "pglite.lock"), "utf8").trim()).toBe(String(process.pid));

    await handles.pop()!.close();
    expect(fs.existsSync(path.join(dataDir, "pglite.lock"))).toBe(false);
    expect(openInChild(dataDir)).toEqual({ opened: true });
  });

  it("takes over a lock left behind by a process that died", async () => {
    const dataDir = tempDir();
    const dead = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid!;
    fs.writeFileSync(path.join(dataDir, "pglite.lock"), `${dead}\n`);
    const handle = await openDatabase({ databaseUrl: null, dataDir });
    handles.push(handle);
    expect(fs.readFileSync(path.join(dataDir, "pglite.lock"), "utf8").trim()).toBe(String(process.pid));
  });
});
