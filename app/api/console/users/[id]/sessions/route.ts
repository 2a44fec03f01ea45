export const dynamic = "force-dynamic";

export { userSessionsRoute as GET } from "@/server/routes/console";
