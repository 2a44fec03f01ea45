export const dynamic = "force-dynamic";

export { startSessionRoute as POST } from "@/server/routes/idv";
