export const dynamic = "force-dynamic";

export { discoveryPreflight as OPTIONS, metadataRoute as GET } from "@/server/routes/oauth";
