export const dynamic = "force-dynamic";

export { signInTokenStatusRoute as GET } from "@/server/routes/console";
