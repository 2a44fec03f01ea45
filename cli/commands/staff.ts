import { type Command, Option } from "commander";
import type { Database } from "@/db/client";
import type { Actor } from "@/lib/context";
import { removeDemoTeam } from "@/lib/demo";
import { DomainError } from "@/lib/errors";
import { STAFF_ROLES, type StaffRole } from "@/lib/staff/rbac";
import { changeStaffRole, createStaff, listStaff, resetStaffPassword, type StaffView, setStaffDisabled } from "@/lib/staff/staff";
import { say, sayJson, withDatabase } from "../context";
import { readNewPassword } from "../password-input";

/** A member named by id or email (case-insensitive). */
async function findMember(db: Database, actor: Actor, who: string): Promise<StaffView> {
  const needle = who.trim().toLowerCase();
  const found = (await listStaff(db, actor)).find((s) => s.id === needle || s.email === needle);
  if (!found) throw new DomainError("not_found", `No staff member with the id or email "${who}".`);
  return found;
}

const describeMember = (s: StaffView) => `${s.role.padEnd(8)} ${s.email}  (${s.name}, ${s.disabled ? "disabled" : "active"}${s.sso ? ", SSO" : ""})  ${s.id}`;

export function register(program: Command): void {
  const staff = program.command("staff").description("manage console staff");

  staff
    .command("create")
    .description("create a staff member who signs in with a password (bootstraps a deployment's first admin)")
    .requiredOption("--email <email>", "their email address, used to sign in")
    .addOption(new Option("--role <role>", "their role").choices(STAFF_ROLES).makeOptionMandatory())
    .option("--name <name>", "their display name (default: the email's local part)")
    .option("--password-stdin", "read the password from the first line of standard input")
    .option("--json", "print the new member as JSON")
    .action(async (opts: { email: string; role: (typeof STAFF_ROLES)[number]; name?: string; passwordStdin?: boolean; json?: boolean }) => {
      // Read the password before opening the database: a slow typist must not hold the data directory.
      const password = await readNewPassword(opts);
      await withDatabase(async (ctx) => {
        const created = await createStaff(ctx.db, ctx.actor, { email: opts.email, role: opts.role, name: opts.name, password }, ctx.meta);
        if (opts.json) return sayJson(created);
        say(`Created ${created.role} ${created.email} (${created.name}, id ${created.id}).`);
        say(`They can sign in at ${ctx.config.publicUrl}/login`);
      });
    });

  staff
    .command("list")
    .description("list staff members with their role and state")
    .option("--json", "print a JSON array")
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const list = await listStaff(ctx.db, ctx.actor);
        if (opts.json) return sayJson(list);
        if (!list.length) say("No staff yet; create the first admin with `tokendesk staff create --role admin`.");
        for (const s of list) say(describeMember(s));
      });
    });

  for (const [name, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    staff
      .command(name)
      .description(`${name} a member's console access (ends their sessions on every instance at their next request)`)
      .argument("<member>", "id or email")
      .option("--json", "print the member as JSON")
      .action(async (who: string, opts: { json?: boolean }) => {
        await withDatabase(async (ctx) => {
          const member = await setStaffDisabled(ctx.db, ctx.actor, (await findMember(ctx.db, ctx.actor, who)).id, disabled, {}, ctx.meta);
          if (opts.json) return sayJson(member);
          say(`${member.email} is ${member.disabled ? "disabled" : "enabled"}.`);
        });
      });
  }

  staff
    .command("reset-password")
    .description("set a new password (prompted twice, or --password-stdin); their sessions end and sign-in limits reset")
    .argument("<member>", "id or email")
    .option("--password-stdin", "read the password from the first line of standard input")
    .option("--json", "print the member as JSON")
    .action(async (who: string, opts: { passwordStdin?: boolean; json?: boolean }) => {
      const password = await readNewPassword(opts);
      await withDatabase(async (ctx) => {
        const member = await resetStaffPassword(ctx.db, ctx.actor, (await findMember(ctx.db, ctx.actor, who)).id, password, ctx.meta);
        if (opts.json) return sayJson(member);
        say(`New password set for ${member.email}.`);
      });
    });

  staff
    .command("set-role")
    .description("change a member's role (refused for the last active admin)")
    .argument("<member>", "id or email")
    .addOption(new Option("--role <role>", "the new role").choices(STAFF_ROLES).makeOptionMandatory())
    .option("--json", "print the member as JSON")
    .action(async (who: string, opts: { role: StaffRole; json?: boolean }) => {
      await withDatabase(async (ctx) => {
        const member = await changeStaffRole(ctx.db, ctx.actor, (await findMember(ctx.db, ctx.actor, who)).id, opts.role, ctx.meta);
        if (opts.json) return sayJson(member);
        say(`${member.email} is now ${member.role}.`);
      });
    });

  staff
    .command("remove-demo")
    .description("delete the demo team's accounts (their passwords are public); needs an admin of your own")
    .action(async () => {
      await withDatabase(async (ctx) => {
        const { removed } = await removeDemoTeam(ctx.db, ctx.actor, ctx.meta);
        say(removed.length ? `Removed the demo team: ${removed.join(", ")}.` : "There is no demo team to remove.");
      });
    });
}
