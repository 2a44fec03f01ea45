/**
 * Every way tokendesk's server starts uses the same Node flags (scripts/server-node-flags.mjs): the
 * container's CMD repeats them by hand, `npm start` and the tests' servers import them. And the flag
 * does what it is there for: a Node started with it gets the larger young generation.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS } from "../../scripts/server-node-flags.mjs";

const root = path.resolve(__dirname, "..", "..");

describe("the server's Node flags", () => {
  it("the container's CMD starts server.mjs with exactly them", () => {
    const dockerfile = fs.readFileSync(path.join(root, "deploy", "Dockerfile"), "utf8");
    const cmd = dockerfile.split("\n").filter((line) => line.startsWith("CMD "));
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0]!.slice(4))).toEqual(["node", ...SERVER_NODE_FLAGS, "server.mjs"]);
  });

  it("npm start and the test servers pass them to the server process", () => {
    for (const file of ["scripts/start.mjs", "scripts/next-server.ts", "e2e/start-tokendesk.mjs"]) {
      const text = fs.readFileSync(path.join(root, file), "utf8");
      expect(text, file).toMatch(/spawn\(process\.execPath, \[\.\.\.SERVER_NODE_FLAGS,/);
    }
  });

  it("give a Node process three 64 MiB semi-spaces of young generation", () => {
    const youngMiB = (flags: string[]) =>
      Number(
        execFileSync(process.execPath, [...flags, "-e", "process.stdout.write(String(require('v8').getHeapStatistics().total_available_size))"], {
          encoding: "utf8",
        }),
      );
    // The heap's available size grows by the young generation's extra room: 3 × (64 − 16) MiB.
    const extra = (youngMiB(SERVER_NODE_FLAGS) - youngMiB([])) / 2 ** 20;
    expect(extra).toBeGreaterThan(100);
  });
});
