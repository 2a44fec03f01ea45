export const dynamic = "force-dynamic";

export { readSessionRoute as GET } from "@/server/routes/idv";
