export const dynamic = "force-dynamic";

export { loginDeviceRoute as POST, onlyPost as DELETE, onlyPost as GET, onlyPost as PATCH, onlyPost as PUT } from "@/server/routes/devices";
