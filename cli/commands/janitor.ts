import type { Command } from "commander";
import { ENVIRONMENTS, type Environment } from "@/lib/environments";
import { runJanitor } from "@/lib/janitor";
import { getRetention, type RetentionInput, updateRetention } from "@/lib/janitor/settings";
import { CliError, say, sayJson, withDatabase } from "../context";

const FLAGS = {
  signInTokensDays: "--sign-in-tokens-days",
  endedSessionsDays: "--ended-sessions-days",
  idvCapturedDays: "--idv-captured-days",
  deviceRefreshTokensDays: "--device-refresh-tokens-days",
} as const;

export function register(program: Command): void {
  const janitor = program.command("janitor").description("retention: remove what is past its time (the server runs this every 15 minutes)");

  janitor
    .command("run")
    .description("run the janitor now; exit 1 if another instance is running it")
    .option("--json", "print the counts as JSON")
    .action(async (opts: { json?: boolean }) => {
      const report = await withDatabase((ctx) => runJanitor(ctx.db, { actor: ctx.actor, meta: ctx.meta }));
      if (opts.json) sayJson(report);
      if (!report.ran) {
        if (!opts.json) say("Another instance is running the janitor; nothing was done.");
        process.exitCode = 1;
        return;
      }
      if (opts.json) return;
      const c = report.counts;
      say(
        `Removed ${c.signInTokens} sign-in tokens (${c.signInTokensExpiredUnused} expired unused), ${c.sdkSessions} ended SDK sessions ` +
          `with ${c.refreshTokens} refresh tokens, ${c.idvCapturedSteps} captured IDV steps, ${c.deviceRefreshTokens} device refresh tokens, ` +
          `${c.rateLimits} rate-limit windows.`,
      );
      if (report.archive)
        say(`Archived audit seals #${report.archive.fromSeal}–#${report.archive.toSeal} (${report.archive.events} events) to ${report.archive.file}.`);
    });

  const retention = janitor
    .command("retention")
    .description("show or change how many days each environment keeps what the janitor removes")
    .option("--environment <environment>", "the environment to change (required with a --*-days option)")
    .option("--json", "print the settings as JSON");
  for (const [key, flag] of Object.entries(FLAGS))
    retention.option(`${flag} <days>`, `days to keep ${key.replace(/Days$/, "").replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`);
  retention.action(async (opts: Record<string, string | boolean | undefined>) => {
    const changes = Object.fromEntries(Object.keys(FLAGS).flatMap((k) => (opts[k] === undefined ? [] : [[k, opts[k]]]))) as Partial<RetentionInput>;
    const environment = opts.environment as Environment | undefined;
    if (environment !== undefined && !ENVIRONMENTS.includes(environment)) throw new CliError("--environment must be sandbox or production.", 2);
    if (Object.keys(changes).length && !environment) throw new CliError("Say which environment to change with --environment.", 2);
    await withDatabase(async (ctx) => {
      if (environment && Object.keys(changes).length) await updateRetention(ctx.db, ctx.actor, environment, changes, ctx.meta);
      const all = await Promise.all((environment ? [environment] : [...ENVIRONMENTS]).map((e) => getRetention(ctx.db, e)));
      if (opts.json) return sayJson(all);
      for (const r of all) {
        say(
          `${r.environment}: sign-in tokens ${r.signInTokensDays} d, ended sessions ${r.endedSessionsDays} d, captured IDV data ${r.idvCapturedDays} d, device refresh tokens ${r.deviceRefreshTokensDays} d`,
        );
      }
    });
  });
}
