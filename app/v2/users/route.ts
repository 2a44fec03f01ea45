import { z } from "zod";
import { DomainError } from "@/lib/errors";
import { describeZodError, withApiKey } from "@/lib/http";
import { MAX_PAGE_SIZE, searchUsers, toApiUser } from "@/lib/users";

export const dynamic = "force-dynamic";

const query = z.object({
  q: z.string().max(200, "must be at most 200 characters").optional(),
  cursor: z.string().max(512, "is not a cursor this server handed out").optional(),
  limit: z.coerce
    .number("must be a number")
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .optional(),
  status: z.enum(["active", "disabled"], "must be active or disabled").optional(),
});

/** GET /v2/users?q=&cursor=&limit=&status= — a keyset page of the key's users. */
export const GET = withApiKey("users:read", async (req, { db, actor }) => {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const parsed = query.safeParse(params);
  if (!parsed.success) {
    const { message, field } = describeZodError(parsed.error);
    throw new DomainError("validation_failed", message, 422, field ? { field } : {});
  }
  const page = await searchUsers(db, actor, parsed.data);
  return Response.json({ users: page.users.map(toApiUser), next_cursor: page.nextCursor });
});
