export const dynamic = "force-dynamic";

export { migrationsExportRoute as GET } from "@/server/routes/console";
