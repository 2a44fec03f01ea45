export const dynamic = "force-dynamic";

export { introspectRoute as POST } from "@/server/routes/oauth";
