import type { Command } from "commander";
import { verifyAuditLogAs } from "@/lib/audit";
import { verifyArchiveFile } from "@/lib/audit/archive";
import { sealAll } from "@/lib/audit/seal";
import { say, sayJson, withDatabase } from "../context";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function register(program: Command): void {
  const audit = program.command("audit").description("the tamper-evident audit log");

  audit
    .command("verify")
    .description("recompute every event's HMAC and every seal; exit 1 naming the first bad entry")
    .option("--json", "print the report as JSON")
    .action(async (opts: { json?: boolean }) => {
      const report = await withDatabase((ctx) => verifyAuditLogAs(ctx.db, ctx.actor, ctx.meta));
      if (!report.ok) process.exitCode = 1;
      if (opts.json) return sayJson(report);
      if (!report.ok) {
        say(`Tampering detected: ${report.problem!.message}`);
        say(`(${report.eventsChecked} events checked before it.)`);
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
    .option("--json", "print {sealed} as JSON")
    .action(async (opts: { json?: boolean }) => {
      const sealed = await withDatabase((ctx) => sealAll(ctx.db));
      if (opts.json) return sayJson({ sealed });
      say(sealed ? `Sealed ${sealed} event${sealed === 1 ? "" : "s"}.` : "Nothing to seal: every finished event is sealed.");
    });

  audit
    .command("verify-archive")
    .description("check an archive the janitor wrote (AUDIT_ARCHIVE_DIR) against its seals; needs the deployment's TOKENDESK_SECRET; exit 1 if altered")
    .argument("<file>", "an audit-seals-<from>-<to>.ndjson file")
    .option("--json", "print the check as JSON")
    .action(async (file: string, opts: { json?: boolean }) => {
      const check = await verifyArchiveFile(file);
      if (!check.ok) process.exitCode = 1;
      if (opts.json) return sayJson(check);
      if (check.ok) say(`The archive is intact: seals #${check.fromSeal}–#${check.toSeal}, ${plural(check.events, "event")} (sha256 ${check.sha256}).`);
      else say(`The archive does not verify: ${check.problem ?? "no archive header"}`);
    });
}
