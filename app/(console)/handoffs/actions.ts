"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { config } from "@/lib/config/env";
import { cancelHandoff } from "@/lib/idv/console";
import { issueHandoff } from "@/lib/idv/handoff";
import { qrSvg } from "@/lib/qr";
import { reasonField } from "@/lib/staff/reason";
import { staffAction } from "@/server/actions";

const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

export interface IssuedHandoff {
  sessionId: string;
  url: string;
  shortUrl: string;
  qrSvg: string;
  expiresAt: string;
  status: string;
}

/** Issue an IDV handoff: the same domain function the API uses, with the staff member as actor. */
export const issueHandoffAction = staffAction(
  "users:issue_tokens",
  z.object({
    userId: z.preprocess(blankToUndefined, z.string().optional()),
    externalUserId: z.preprocess(blankToUndefined, z.string().optional()),
    environment: z.preprocess(blankToUndefined, z.enum(["sandbox", "production"], "must be sandbox or production").optional()),
    workflowId: z.string(),
    ttl: z.coerce.number("must be a number of seconds"),
    reason: reasonField,
  }),
  async (input, { actor, db, meta }) => {
    const base = config().publicUrl;
    const h = await issueHandoff(db, actor, base, input, meta);
    revalidatePath("/handoffs");
    const data: IssuedHandoff = {
      sessionId: h.session.id,
      url: h.url,
      shortUrl: h.shortUrl,
      qrSvg: await qrSvg(h.shortUrl),
      expiresAt: h.session.expiresAt,
      status: h.session.status,
    };
    return { data, message: "Handoff issued. Show the QR code or send the link." };
  },
);

export const cancelHandoffAction = staffAction(
  "users:issue_tokens",
  z.object({ id: z.uuid("is not a handoff id").meta({ title: "The handoff" }), reason: reasonField }),
  async (input, { actor, db, meta }) => {
    const row = await cancelHandoff(db, actor, input.id, input.reason, meta);
    revalidatePath("/handoffs");
    revalidatePath(`/handoffs/${row.id}`);
    return { data: row.id, message: "Handoff cancelled: the link no longer works." };
  },
);
