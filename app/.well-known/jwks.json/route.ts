export const dynamic = "force-dynamic";

export { discoveryPreflight as OPTIONS, jwksRoute as GET } from "@/server/routes/oauth";
