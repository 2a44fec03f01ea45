export const dynamic = "force-dynamic";

export { handoffImageRoute as GET } from "@/server/routes/console";
