export const dynamic = "force-dynamic";

export { deleteUserRoute as DELETE, getUserRoute as GET, userPreflight as OPTIONS } from "@/server/routes/users";
