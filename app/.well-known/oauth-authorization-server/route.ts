export const dynamic = "force-dynamic";

export { metadataRoute as GET } from "@/server/routes/oauth";
