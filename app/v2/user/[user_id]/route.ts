export const dynamic = "force-dynamic";

export { deleteUserRoute as DELETE, getUserRoute as GET } from "@/server/routes/users";
