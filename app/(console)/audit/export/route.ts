export const dynamic = "force-dynamic";

export { auditExportRoute as GET } from "@/server/routes/console";
