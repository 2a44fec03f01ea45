"use server";
import { revalidatePath } from "next/cache";
import QRCode from "qrcode";
import { z } from "zod";
import {
  beginPasskeyEnrolment,
  beginTotpEnrolment,
  confirmTotpEnrolment,
  finishPasskeyEnrolment,
  regenerateRecoveryCodes,
  removePasskey,
  removeTotp,
} from "@/lib/staff/second-factor";
import { staffAction } from "@/server/actions";

/** Every member manages their own factors: the permission is only "uses the console". */
export const beginTotpAction = staffAction("console:view", z.object({}), async (_input, { actor, db }) => {
  const enrolment = await beginTotpEnrolment(db, actor);
  const qrSvg = await QRCode.toString(enrolment.uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  return { ...enrolment, qrSvg };
});

export const confirmTotpAction = staffAction(
  "console:view",
  z.object({ challengeId: z.string().max(64), code: z.string().max(32) }),
  async (input, { actor, db, meta }) => {
    const result = await confirmTotpEnrolment(db, actor, input, meta);
    revalidatePath("/security");
    return { data: result, message: "Your authenticator app is set up. Sign in again to use it for production actions." };
  },
);

export const removeTotpAction = staffAction("console:view", z.object({}), async (_input, { actor, db, meta }) => {
  await removeTotp(db, actor, meta);
  revalidatePath("/security");
  return { data: null, message: "Your authenticator app no longer signs you in." };
});

export const beginPasskeyAction = staffAction("console:view", z.object({}), async (_input, { actor, db }) => beginPasskeyEnrolment(db, actor));

export const finishPasskeyAction = staffAction(
  "console:view",
  z.object({ challengeId: z.string().max(64), name: z.string().max(200), response: z.string().max(32_768) }),
  async (input, { actor, db, meta }) => {
    let response: unknown;
    try {
      response = JSON.parse(input.response);
    } catch {
      response = null;
    }
    const result = await finishPasskeyEnrolment(db, actor, { challengeId: input.challengeId, name: input.name, response }, meta);
    revalidatePath("/security");
    return { data: result, message: `Passkey "${input.name.trim()}" added.` };
  },
);

export const removePasskeyAction = staffAction("console:view", z.object({ id: z.string().max(1024) }), async (input, { actor, db, meta }) => {
  await removePasskey(db, actor, input.id, meta);
  revalidatePath("/security");
  return { data: null, message: "Passkey removed." };
});

export const regenerateRecoveryCodesAction = staffAction("console:view", z.object({}), async (_input, { actor, db, meta }) => {
  const codes = await regenerateRecoveryCodes(db, actor, meta);
  revalidatePath("/security");
  return { data: codes, message: "New recovery codes: the old ones no longer work." };
});
