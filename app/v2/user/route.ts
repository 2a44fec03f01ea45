export const dynamic = "force-dynamic";

export { createUserRoute as POST } from "@/server/routes/users";
