export const dynamic = "force-dynamic";

export { deviceSelfRoute as GET, onlyGet as DELETE, onlyGet as PATCH, onlyGet as POST, onlyGet as PUT } from "@/server/routes/devices";
