import type { Command } from "commander";
import { rotateSigningKey } from "@/lib/oauth/signing-keys";
import { say, withDatabase } from "../context";

export function register(program: Command): void {
  const keys = program.command("keys").description("manage the JWT signing keys");

  keys
    .command("rotate")
    .description("make a new signing key current; the previous one keeps verifying until its tokens have expired")
    .option("--json", "print {kid, previous_kid} as JSON")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const r = await rotateSigningKey(ctx.db, ctx.actor, ctx.meta);
        if (opts.json) say(JSON.stringify({ kid: r.kid, previous_kid: r.previousKid }));
        else say(`New signing key ${r.kid} is current${r.previousKid ? `; ${r.previousKid} keeps verifying until its tokens expire` : ""}.`);
      });
    });
}
