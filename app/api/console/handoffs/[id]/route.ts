export const dynamic = "force-dynamic";

export { handoffStatusRoute as GET } from "@/server/routes/console";
