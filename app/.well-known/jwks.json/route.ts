export const dynamic = "force-dynamic";

export { jwksRoute as GET } from "@/server/routes/oauth";
