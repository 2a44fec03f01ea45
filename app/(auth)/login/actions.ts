"use server";
/**
 * The second step of a password sign-in, before there is a session: these answer only to a live
 * ticket (lib/staff/second-factor.ts), which the browser got from a right password.
 */
import QRCode from "qrcode";
import { getDb } from "@/db";
import { passkeyOptionsForTicket, secondStepInfo } from "@/lib/staff/second-factor";

export async function secondStepAction(ticket: unknown) {
  const info = await secondStepInfo(await getDb(), ticket);
  if (!info.ok || !info.enrol) return { ...info, qrSvg: null };
  return { ...info, qrSvg: await QRCode.toString(info.enrol.uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 }) };
}

export async function passkeyOptionsAction(ticket: unknown) {
  return passkeyOptionsForTicket(await getDb(), ticket);
}
