import type { Command } from "commander";
import { createWorkflow, listWorkflows, parseStepList } from "@/lib/idv/workflows";
import { CliError, say, withDatabase } from "../context";

export function register(program: Command): void {
  const workflows = program.command("workflows").description("manage IDV workflows (the steps a handoff asks a person to complete)");

  workflows
    .command("list")
    .description("list the workflows in use")
    .option("--json", "print a JSON array of {id, name, steps}")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const list = await listWorkflows(ctx.db, ctx.actor);
        if (opts.json) {
          say(JSON.stringify(list.map((w) => ({ id: w.id, name: w.name, steps: w.steps }))));
          return;
        }
        if (list.length === 0) say("No workflows yet; create one with `tokendesk workflows create --name N --steps document,selfie`.");
        for (const w of list) say(`${w.id}  ${w.name}  (${w.steps.map((s) => s.type).join(", ")})`);
      });
    });

  workflows
    .command("create")
    .description("create a workflow from an ordered list of steps")
    .requiredOption("--name <name>", 'what staff see, e.g. "KYC: ID and selfie"')
    .requiredOption("--steps <list>", "steps in order, comma-separated: document, selfie, form")
    .option("--json", "print the created workflow as JSON {id, name, steps}")
    .action(async (opts: { name: string; steps: string; json?: boolean }) => {
      // Parse before opening the database: a typo is bad usage (exit 2) and touches nothing.
      let steps: ReturnType<typeof parseStepList>;
      try {
        steps = parseStepList(opts.steps);
      } catch (err) {
        throw new CliError(err instanceof Error ? err.message : String(err), 2);
      }
      await withDatabase(async (ctx) => {
        const w = await createWorkflow(ctx.db, ctx.actor, { name: opts.name, steps }, ctx.meta);
        if (opts.json) say(JSON.stringify({ id: w.id, name: w.name, steps: w.steps }));
        else say(`Created workflow ${w.id} (${w.name}): ${w.steps.map((s) => s.type).join(" → ")}.`);
      });
    });
}
