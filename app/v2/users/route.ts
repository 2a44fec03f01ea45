export const dynamic = "force-dynamic";

export { searchUsersRoute as GET } from "@/server/routes/users";
