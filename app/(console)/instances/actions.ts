"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import type { CreatedInstance } from "@/components/devices/create-instance-form";
import { createInstance } from "@/lib/devices";
import { staffAction } from "@/server/actions";

export const createInstanceAction = staffAction(
  "instances:manage",
  z.object({ name: z.string(), environment: z.string(), jwtTtlSeconds: z.string().optional(), refreshTtlDays: z.string().optional() }),
  async (input, { actor, db, meta }) => {
    const days = input.refreshTtlDays?.trim() ? Number(input.refreshTtlDays) : 90;
    const { instance, instanceKey } = await createInstance(
      db,
      actor,
      {
        name: input.name,
        environment: input.environment as "sandbox",
        jwtTtlSeconds: input.jwtTtlSeconds?.trim() || undefined,
        refreshTtlSeconds: Number.isFinite(days) ? Math.round(days * 86_400) : input.refreshTtlDays,
      },
      meta,
    );
    revalidatePath("/instances");
    // The key travels to the browser once, in this answer; it is not stored anywhere readable.
    const data: CreatedInstance = { instanceId: instance.id, instanceKey, name: instance.name, environment: instance.environment };
    return {
      data,
      message: `Instance "${instance.name}" created.`,
    };
  },
);
