export const dynamic = "force-dynamic";

export { submitSessionRoute as POST } from "@/server/routes/idv";
