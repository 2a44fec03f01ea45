"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db";
import { looksLike, revokeDeviceRefreshTokens, searchDevices, setDeviceDisabled } from "@/lib/devices";
import { isDomainError } from "@/lib/errors";
import { can } from "@/lib/staff/rbac";
import { reasonField } from "@/lib/staff/reason";
import { staffAction } from "@/server/actions";
import { currentStaff } from "@/server/staff-session";

const id = z.uuid("is not a device id").meta({ title: "The device" });
const reason = reasonField;

/**
 * The search box posts here rather than GETting /devices?q=...: a whole DeviceToken is a login
 * credential and must not land in the address bar, browser history or access logs. It is looked up
 * (by hash) and the browser is sent to the device page; any other search becomes a shareable URL.
 */
export async function findDeviceAction(form: FormData): Promise<void> {
  const q = String(form.get("q") ?? "").trim();
  if (!looksLike("device_token", q)) redirect(q ? `/devices?${new URLSearchParams({ q })}` : "/devices");
  const actor = await currentStaff();
  if (!actor) redirect("/login");
  if (!can(actor.role, "devices:read")) redirect("/devices");
  let target = `/devices?${new URLSearchParams({ q: q.slice(0, 11), token: "none" })}`;
  try {
    const page = await searchDevices(await getDb(), actor, { q });
    if (page.devices[0]) target = `/devices/${page.devices[0].id}`;
  } catch (err) {
    if (!isDomainError(err)) throw err;
  }
  redirect(target);
}

export const setDeviceDisabledAction = staffAction(
  "devices:manage",
  z.object({ id, disabled: z.enum(["true", "false"]), reason }),
  async (input, { actor, db, meta }) => {
    const d = await setDeviceDisabled(db, actor, input.id, input.disabled === "true", input.reason, meta);
    revalidatePath(`/devices/${d.id}`);
    return {
      data: d.id,
      message: d.disabled ? "Device disabled: its JWTs, logins and refreshes are refused from now on." : "Device enabled again.",
    };
  },
);

export const revokeDeviceTokensAction = staffAction("devices:manage", z.object({ id, reason }), async (input, { actor, db, meta }) => {
  const { revoked } = await revokeDeviceRefreshTokens(db, actor, input.id, input.reason, meta);
  revalidatePath(`/devices/${input.id}`);
  return {
    data: input.id,
    message: `${revoked} refresh token${revoked === 1 ? "" : "s"} revoked; the device must log in again once its JWT expires.`,
  };
});
