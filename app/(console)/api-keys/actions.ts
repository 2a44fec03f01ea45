"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { API_KEY_SCOPES, type ApiKeyView, createApiKey, revokeApiKey } from "@/lib/api-keys";
import { reasonField } from "@/lib/staff/reason";
import { staffAction } from "@/server/actions";

/**
 * Scopes arrive as one checkbox per scope (`scope:users:read=on`) because the action wrapper keeps
 * one value per form field name; "all" ticks every scope.
 */
const createSchema = z.looseObject({ name: z.string(), environment: z.string(), region: z.string() });

export interface CreatedApiKey {
  key: string;
  apiKey: ApiKeyView;
}

export const createApiKeyAction = staffAction("api_keys:manage", createSchema, async (input, { actor, db, meta }) => {
  const fields = input as Record<string, unknown>;
  const scopes = fields["scope:all"] ? [...API_KEY_SCOPES] : API_KEY_SCOPES.filter((s) => fields[`scope:${s}`]);
  const created = await createApiKey(db, actor, { name: input.name, environment: input.environment as "sandbox", region: input.region, scopes }, meta);
  revalidatePath("/api-keys");
  return { data: created satisfies CreatedApiKey, message: `Key “${created.apiKey.name}” created.` };
});

export const revokeApiKeyAction = staffAction(
  "api_keys:manage",
  z.object({
    id: z.uuid("is not an API key id").meta({ title: "The key" }),
    reason: reasonField,
    // The number of installations the person confirmed will break (the checkbox's value).
    confirmBreaking: z.coerce.number().int().min(0).optional(),
  }),
  async (input, { actor, db, meta }) => {
    const key = await revokeApiKey(db, actor, input.id, input.reason, meta, { confirmBreakingInstallations: input.confirmBreaking ?? null });
    revalidatePath("/api-keys");
    return { data: key.id, message: `Key “${key.name}” (${key.prefix}…) is revoked; requests with it now answer 401.` };
  },
);
