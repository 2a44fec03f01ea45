export const dynamic = "force-dynamic";

export { liveRoute as GET } from "@/server/routes/health";
