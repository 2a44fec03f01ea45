export const dynamic = "force-dynamic";

export { setUserStatusRoute as PUT } from "@/server/routes/users";
