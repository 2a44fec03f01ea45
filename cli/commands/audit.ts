import fs from "node:fs";
import type { Command } from "commander";
import { verifyAuditLogAs } from "@/lib/audit";
import { type AuditAnchor, anchorLine, formatAnchor, parseAnchorText } from "@/lib/audit/anchor";
import { verifyArchiveFile } from "@/lib/audit/archive";
import { latestSeal, sealAll } from "@/lib/audit/seal";
import { CliError, say, sayJson, withDatabase } from "../context";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `--anchor`: a file of anchors (its last one is used), an anchor `N:digest`, or a bare digest. */
function readAnchorArg(arg: string): AuditAnchor {
  let text = arg;
  if (fs.existsSync(arg)) {
    try {
      text = fs.readFileSync(arg, "utf8");
    } catch (err) {
      throw new CliError(`Cannot read the anchor file ${arg}: ${(err as Error).message}`, 2);
    }
    const anchor = parseAnchorText(text);
    if (!anchor) throw new CliError(`${arg} holds no anchor (a line "seal number:digest", as "tokendesk audit anchor --append" writes).`, 2);
    return anchor;
  }
  const anchor = parseAnchorText(text);
  if (!anchor)
    throw new CliError(`--anchor ${arg.slice(0, 80)} is neither a file nor an anchor ("seal number:digest", as "tokendesk audit anchor" prints).`, 2);
  return anchor;
}

export function register(program: Command): void {
  const audit = program.command("audit").description("the tamper-evident audit log");

  audit
    .command("verify")
    .description("recompute every event's HMAC and every seal; exit 1 naming the first bad entry")
    .option("--anchor <file|anchor>", "also check that the log still reaches this anchor (from `tokendesk audit anchor`), or the last one in this file")
    .option("--json", "print the report as JSON")
    .action(async (opts: { anchor?: string; json?: boolean }) => {
      const anchor = opts.anchor ? readAnchorArg(opts.anchor) : null;
      const report = await withDatabase((ctx) => verifyAuditLogAs(ctx.db, ctx.actor, ctx.meta, { anchor }));
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
      if (anchor) say(`It still reaches the anchor ${anchor.seq === null ? anchor.digest : formatAnchor({ seq: anchor.seq, digest: anchor.digest })}.`);
      if (report.latest) say(`Latest anchor: ${formatAnchor(report.latest)}`);
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

  audit
    .command("anchor")
    .description("seal, then print the newest seal's number and digest (seal number:digest) to keep outside the database")
    .option("--append <file>", "also append it, after the time, as a line to this file")
    .option("--post <url>", "also POST it as JSON {seal, digest, anchor, sealedAt} to this URL")
    .option("--json", "print {seal, digest, anchor, sealedAt} as JSON")
    .action(async (opts: { append?: string; post?: string; json?: boolean }) => {
      if (opts.post && !/^https?:\/\//i.test(opts.post)) throw new CliError("--post needs an http:// or https:// URL.", 2);
      const head = await withDatabase(async (ctx) => {
        await sealAll(ctx.db);
        return latestSeal(ctx.db);
      });
      if (!head) throw new CliError("Nothing to anchor: the audit log has no seal yet.");
      const anchor = formatAnchor(head);
      const body = { seal: head.seq, digest: head.digest, anchor, sealedAt: head.sealedAt.toISOString() };
      if (opts.json) sayJson(body);
      else say(anchor);
      if (opts.append) {
        try {
          fs.appendFileSync(opts.append, `${anchorLine(head)}\n`);
        } catch (err) {
          throw new CliError(`Cannot append to ${opts.append}: ${(err as Error).message}`);
        }
        if (!opts.json) say(`Appended to ${opts.append}.`);
      }
      if (opts.post) {
        let res: Response;
        try {
          res = await fetch(opts.post, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(15_000),
          });
        } catch (err) {
          throw new CliError(`Could not POST the anchor to ${new URL(opts.post).origin}: ${(err as Error).message}`);
        }
        if (!res.ok) throw new CliError(`The anchor was not accepted: ${new URL(opts.post).origin} answered ${res.status}.`);
        if (!opts.json) say(`Posted to ${new URL(opts.post).origin} (${res.status}).`);
      }
    });
}
