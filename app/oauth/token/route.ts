export const dynamic = "force-dynamic";

export { tokenRoute as POST } from "@/server/routes/oauth";
