export const dynamic = "force-dynamic";

export { revokePreflight as OPTIONS, revokeRoute as POST } from "@/server/routes/oauth";
