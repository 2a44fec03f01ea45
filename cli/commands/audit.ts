import type { Command } from "commander";
import { verifyAuditLogAs } from "@/lib/audit";
import { sealAll } from "@/lib/audit/seal";
import { say, withDatabase } from "../context";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function register(program: Command): void {
  const audit = program.command("audit").description("the tamper-evident audit log");

  audit
    .command("verify")
    .description("recompute every event's HMAC and every seal; exit 1 naming the first bad entry")
    .action(async () => {
      const report = await withDatabase((ctx) => verifyAuditLogAs(ctx.db, ctx.actor, ctx.meta));
      if (!report.ok) {
        say(`Tampering detected: ${report.problem!.message}`);
        say(`(${report.eventsChecked} events checked before it.)`);
        process.exitCode = 1;
        return;
      }
      say(
        `The audit log is intact: ${plural(report.eventsChecked, "event")} and ${plural(report.sealsChecked, "seal")} checked` +
          (report.unsealedEvents ? ` (${report.unsealedEvents} still being written, checked by their own HMAC).` : "."),
      );
    });

  audit
    .command("seal")
    .description("seal every finished audit event now (the server also does this every few seconds)")
    .action(async () => {
      const sealed = await withDatabase((ctx) => sealAll(ctx.db));
      say(sealed ? `Sealed ${sealed} event${sealed === 1 ? "" : "s"}.` : "Nothing to seal: every finished event is sealed.");
    });
}
