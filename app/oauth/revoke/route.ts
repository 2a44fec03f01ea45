export const dynamic = "force-dynamic";

export { revokeRoute as POST } from "@/server/routes/oauth";
