export const dynamic = "force-dynamic";

export { onlyPost as DELETE, onlyPost as GET, onlyPost as PATCH, onlyPost as PUT, refreshDeviceRoute as POST } from "@/server/routes/devices";
