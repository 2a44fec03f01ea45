/**
 * IDV workflows: a named, ordered list of steps (document photo, selfie, form fields). Admins create
 * them in the console or with `tokendesk workflows create`; sessions follow one.
 */
import { randomBytes } from "node:crypto";
import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Database, Executor } from "@/db/client";
import { type Workflow, type WorkflowStep, workflows } from "@/db/schema";
import { recordAudit } from "@/lib/audit/record";
import type { Actor, RequestMeta } from "@/lib/context";
import { DomainError, parseInput } from "@/lib/errors";
import { assertStaffCan } from "@/lib/staff/authorize";

export const STEP_TYPES = ["document", "selfie", "form"] as const;
export type StepType = (typeof STEP_TYPES)[number];

export interface WorkflowView {
  id: string;
  name: string;
  steps: WorkflowStep[];
  createdAt: string;
}

export function toWorkflowView(w: Workflow): WorkflowView {
  return { id: w.id, name: w.name, steps: w.steps, createdAt: w.createdAt.toISOString() };
}

/** The form a workflow gets when it is created from a bare step list. */
export const DEFAULT_FORM_FIELDS: NonNullable<WorkflowStep["fields"]> = [
  { name: "fullName", label: "Full name", type: "text", required: true },
  { name: "dateOfBirth", label: "Date of birth", type: "date", required: true },
  { name: "email", label: "Email", type: "email", required: false },
];

const DEFAULT_LABELS: Record<StepType, string> = {
  document: "Photo of your ID document",
  selfie: "A selfie",
  form: "Your details",
};

/** Builds step definitions from types in order; a repeated type gets a numbered id. */
export function stepsFromTypes(types: StepType[]): WorkflowStep[] {
  const seen = new Map<string, number>();
  return types.map((type) => {
    const n = (seen.get(type) ?? 0) + 1;
    seen.set(type, n);
    const id = n === 1 ? type : `${type}-${n}`;
    const label = n === 1 ? DEFAULT_LABELS[type] : `${DEFAULT_LABELS[type]} (${n})`;
    return type === "form" ? { id, type, label, fields: DEFAULT_FORM_FIELDS } : { id, type, label };
  });
}

/** "document,selfie,form" → step types, naming any unknown entry. */
export function parseStepList(raw: string): StepType[] {
  const list = raw
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = list.filter((s) => !(STEP_TYPES as readonly string[]).includes(s));
  if (unknown.length) throw new DomainError("validation_failed", `Unknown step ${unknown.join(", ")}; steps are ${STEP_TYPES.join(", ")}.`, { field: "steps" });
  if (list.length === 0) throw new DomainError("validation_failed", "A workflow needs at least one step.", { field: "steps" });
  return list as StepType[];
}

export const createWorkflowInput = z.object({
  name: z.string().trim().min(1, "is required").max(100, "must be at most 100 characters").meta({ title: "Name" }),
  steps: z
    .array(z.enum(STEP_TYPES, `must be among ${STEP_TYPES.join(", ")}`))
    .min(1, "needs at least one step")
    .max(10, "may have at most 10 steps")
    .meta({ title: "Steps" }),
});

export async function createWorkflow(
  db: Database,
  actor: Actor,
  input: z.input<typeof createWorkflowInput>,
  meta: RequestMeta,
  opts: { id?: string } = {},
): Promise<WorkflowView> {
  assertStaffCan(actor, "workflows:manage");
  const data = parseInput(createWorkflowInput, input);
  const id = opts.id ?? `wf_${randomBytes(9).toString("base64url")}`;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(workflows)
      .values({ id, name: data.name, steps: stepsFromTypes(data.steps) })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new DomainError("workflow_exists", `A workflow with id ${id} already exists.`);
    await recordAudit(
      tx,
      { actor, action: "workflow.created", target: { type: "workflow", id: row.id }, details: { name: row.name, steps: row.steps.map((s) => s.type) } },
      meta,
    );
    return toWorkflowView(row);
  });
}

/** Workflows in use (not archived), oldest first. Everyone who can see the console may list them. */
export async function listWorkflows(db: Executor, actor: Actor): Promise<WorkflowView[]> {
  if (actor.type === "staff") assertStaffCan(actor, "console:view");
  const rows = await db.select().from(workflows).where(isNull(workflows.archivedAt)).orderBy(asc(workflows.createdAt), asc(workflows.id));
  return rows.map(toWorkflowView);
}

export async function findWorkflow(db: Executor, id: string): Promise<Workflow | null> {
  if (!id || id.length > 100) return null;
  const [row] = await db
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, id), isNull(workflows.archivedAt)));
  return row ?? null;
}
