import { type Command, Option } from "commander";
import { STAFF_ROLES } from "@/lib/staff/rbac";
import { createStaff } from "@/lib/staff/staff";
import { say, withDatabase } from "../context";
import { readNewPassword } from "../password-input";

export function register(program: Command): void {
  const staff = program.command("staff").description("manage console staff");

  staff
    .command("create")
    .description("create a staff member who signs in with a password (bootstraps a deployment's first admin)")
    .requiredOption("--email <email>", "their email address, used to sign in")
    .addOption(new Option("--role <role>", "their role").choices(STAFF_ROLES).makeOptionMandatory())
    .option("--name <name>", "their display name (default: the email's local part)")
    .option("--password-stdin", "read the password from the first line of standard input")
    .action(async (opts: { email: string; role: (typeof STAFF_ROLES)[number]; name?: string; passwordStdin?: boolean }) => {
      // Read the password before opening the database: a slow typist must not hold the data directory.
      const password = await readNewPassword(opts);
      await withDatabase(async (ctx) => {
        const created = await createStaff(ctx.db, ctx.actor, { email: opts.email, role: opts.role, name: opts.name, password }, ctx.meta);
        say(`Created ${created.role} ${created.email} (${created.name}, id ${created.id}).`);
        say(`They can sign in at ${ctx.config.publicUrl}/login`);
      });
    });
}
