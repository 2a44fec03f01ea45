/**
 * The HTTP tests' server: the production build on a free loopback port (scripts/next-server.ts).
 */
import { type NextServer, startNextServer } from "../../scripts/next-server";

export { freePort, ROOT } from "../../scripts/next-server";

export type RunningServer = Omit<NextServer, "child">;

export function startServer(env: Record<string, string>, opts: { logFile?: string } = {}): Promise<RunningServer> {
  return startNextServer({ env, logFile: opts.logFile });
}
