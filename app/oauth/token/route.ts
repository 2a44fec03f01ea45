export const dynamic = "force-dynamic";

export { tokenPreflight as OPTIONS, tokenRoute as POST } from "@/server/routes/oauth";
