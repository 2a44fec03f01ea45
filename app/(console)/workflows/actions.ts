"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { createWorkflow, parseStepList } from "@/lib/idv/workflows";
import { staffAction } from "@/server/actions";

export const createWorkflowAction = staffAction("workflows:manage", z.object({ name: z.string(), steps: z.string() }), async (input, { actor, db, meta }) => {
  const w = await createWorkflow(db, actor, { name: input.name, steps: parseStepList(input.steps) }, meta);
  revalidatePath("/workflows");
  return { data: w.id, message: `Workflow "${w.name}" created (${w.id}).` };
});
