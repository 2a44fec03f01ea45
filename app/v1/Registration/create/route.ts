export const dynamic = "force-dynamic";

export { onlyPost as DELETE, onlyPost as GET, onlyPost as PATCH, onlyPost as PUT, registerDeviceRoute as POST } from "@/server/routes/devices";
