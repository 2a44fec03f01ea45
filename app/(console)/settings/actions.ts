"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { ENVIRONMENTS } from "@/lib/environments";
import { rotateSigningKey } from "@/lib/oauth/signing-keys";
import { updateSettings } from "@/lib/settings";
import { updateSecuritySettings } from "@/lib/staff/second-factor";
import { staffAction } from "@/server/actions";

/**
 * The values go to the domain function as typed strings: it is the one that validates them, so the
 * console shows exactly the server's sentence (which names each field by its title).
 */
export const updateSettingsAction = staffAction(
  "settings:manage",
  z.object({
    environment: z.enum(ENVIRONMENTS, "must be sandbox or production"),
    signInTokenTtlSeconds: z.string(),
    accessTokenTtlSeconds: z.string(),
    refreshAbsoluteTtlSeconds: z.string(),
    refreshGraceSeconds: z.string(),
  }),
  async ({ environment, ...values }, { actor, db, meta }) => {
    await updateSettings(db, actor, environment, values, meta);
    revalidatePath("/settings");
    return { data: environment as string, message: `Saved the ${environment} lifetimes. They apply to tokens issued from now on.` };
  },
);

export const rotateSigningKeyAction = staffAction(
  "settings:manage",
  z.object({ confirm: z.literal("rotate", "must be confirmed") }),
  async (_input, { actor, db, meta }) => {
    const result = await rotateSigningKey(db, actor, meta);
    revalidatePath("/settings");
    return {
      data: result.kid,
      message: result.previousKid
        ? `New tokens are signed with ${result.kid}. ${result.previousKid} stays published until the tokens it signed have expired.`
        : `New tokens are signed with ${result.kid}.`,
    };
  },
);

export const updateSecurityPolicyAction = staffAction(
  "settings:manage",
  z.object({ requireSecondFactor: z.literal("on").optional(), productionNeedsStrongAuth: z.literal("on").optional() }),
  async (input, { actor, db, meta }) => {
    const policy = await updateSecuritySettings(
      db,
      actor,
      { requireSecondFactor: input.requireSecondFactor === "on", productionNeedsStrongAuth: input.productionNeedsStrongAuth === "on" },
      meta,
    );
    revalidatePath("/settings");
    return {
      data: "security",
      message: `Saved: a second factor is ${policy.requireSecondFactor ? "required" : "optional"}; production actions ${policy.productionNeedsStrongAuth ? "need a second factor or SSO" : "need no second factor"}.`,
    };
  },
);
