export const dynamic = "force-dynamic";

export { healthRoute as GET } from "@/server/routes/health";
