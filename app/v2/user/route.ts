export const dynamic = "force-dynamic";

export { createUserRoute as POST, listUsersRoute as GET } from "@/server/routes/users";
