"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { ENVIRONMENTS } from "@/lib/environments";
import { DomainError, isDomainError } from "@/lib/errors";
import { createUser, createUserInput, optionalEmailField } from "@/lib/users";
import { staffAction } from "@/server/actions";

/**
 * "Create user" on the users page: the same domain function as POST /v2/user (its audit event,
 * its `user.created` webhook), with the staff member as actor — `users:write` in the chosen
 * environment (qa: sandbox only). Field names are the API's, titled for sentences.
 */
export const createUserAction = staffAction(
  "users:write",
  z.object({
    client_user_id: createUserInput.shape.client_user_id.meta({ title: "Client user id" }),
    environment: z.enum(ENVIRONMENTS, "must be sandbox or production").meta({ title: "Environment" }),
    region: z.string("is required").trim().min(1, "is required").meta({ title: "Region" }),
    name: z.string().trim().max(200, "must be at most 200 characters").optional().meta({ title: "Name" }),
    email: optionalEmailField.optional().meta({ title: "Email" }),
  }),
  async (input, { actor, db, meta }) => {
    try {
      const user = await createUser(
        db,
        actor,
        { client_user_id: input.client_user_id, name: input.name || null, email: input.email || null, environment: input.environment, region: input.region },
        meta,
      );
      revalidatePath("/users");
      return { data: user.id, message: `${user.clientUserId} created in ${user.environment} / ${user.region}.` };
    } catch (err) {
      if (isDomainError(err) && err.code === "client_user_id_taken") {
        throw new DomainError("client_user_id_taken", `A user with this client user id already exists in ${input.environment} / ${input.region}.`, {
          field: "client_user_id",
          user_id: err.extra.user_id ?? null,
        });
      }
      throw err;
    }
  },
);
