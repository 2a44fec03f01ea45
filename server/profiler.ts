/**
 * CPU profiles of chosen stretches of a running server, for `npm run bench -- --profile`: with
 * TOKENDESK_CPU_PROFILE_DIR set, each SIGUSR2 starts V8's sampling profiler or, when it runs, stops
 * it and writes `<dir>/<n>.cpuprofile` (n = 1, 2, …). The benchmark signals before and after each
 * measured run, so every profile holds one operation and nothing of start-up or warm-up.
 * Loaded by server.ts only when the variable is set.
 */
import fs from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";

export async function enableSignalProfiler(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 250 });
  let running = false;
  let written = 0;
  let busy: Promise<void> = Promise.resolve();
  process.on("SIGUSR2", () => {
    busy = busy.then(async () => {
      if (!running) {
        await session.post("Profiler.start");
        running = true;
        return;
      }
      running = false;
      const { profile } = await session.post("Profiler.stop");
      const file = path.join(dir, `${++written}.cpuprofile`);
      fs.writeFileSync(`${file}.partial`, JSON.stringify(profile));
      fs.renameSync(`${file}.partial`, file);
    });
  });
}
