"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { removeDemoTeam } from "@/lib/demo";
import { STAFF_ROLES } from "@/lib/staff/rbac";
import { reasonField } from "@/lib/staff/reason";
import { resetStaffSecondFactors } from "@/lib/staff/second-factor";
import { changeStaffRole, createStaff, resetStaffPassword, setStaffDisabled } from "@/lib/staff/staff";
import { staffAction } from "@/server/actions";

const id = z.uuid("is not a staff member id");

export const createStaffAction = staffAction(
  "staff:manage",
  z.object({ email: z.string(), name: z.string().optional(), role: z.enum(STAFF_ROLES, "must be a role"), password: z.string() }),
  async (input, { actor, db, meta }) => {
    const created = await createStaff(db, actor, { ...input, name: input.name || undefined }, meta);
    revalidatePath("/staff");
    return { data: created.id, message: `${created.email} can now sign in as ${created.role}.` };
  },
);

export const changeRoleAction = staffAction(
  "staff:manage",
  z.object({ id, role: z.enum(STAFF_ROLES, "must be a role") }),
  async (input, { actor, db, meta }) => {
    const s = await changeStaffRole(db, actor, input.id, input.role, meta);
    revalidatePath("/staff");
    return { data: s.id, message: `${s.email} is now ${s.role}.` };
  },
);

export const setDisabledAction = staffAction(
  "staff:manage",
  z.object({ id, disabled: z.enum(["true", "false"]), reason: reasonField }),
  async (input, { actor, db, meta }) => {
    const s = await setStaffDisabled(db, actor, input.id, input.disabled === "true", { reason: input.reason }, meta);
    revalidatePath("/staff");
    return { data: s.id, message: `${s.email} is ${s.disabled ? "disabled and signed out everywhere" : "enabled"}.` };
  },
);

export const resetPasswordAction = staffAction("staff:manage", z.object({ id, password: z.string() }), async (input, { actor, db, meta }) => {
  const s = await resetStaffPassword(db, actor, input.id, input.password, meta);
  revalidatePath("/staff");
  return { data: s.id, message: `Password of ${s.email} reset; their other sessions have ended.` };
});

export const resetSecondFactorsAction = staffAction("staff:manage", z.object({ id }), async (input, { actor, db, meta }) => {
  await resetStaffSecondFactors(db, actor, input.id, meta);
  revalidatePath("/staff");
  return { data: input.id, message: "Their second factors are removed and their sessions ended; they set one up again at their next sign-in." };
});

export const removeDemoTeamAction = staffAction("staff:manage", z.object({}), async (_input, { actor, db, meta }) => {
  const { removed } = await removeDemoTeam(db, actor, meta);
  revalidatePath("/", "layout");
  return { data: String(removed.length), message: removed.length ? `Removed the demo team (${removed.join(", ")}).` : "There is no demo team any more." };
});
