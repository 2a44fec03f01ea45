export const dynamic = "force-dynamic";

export { submitStepRoute as POST } from "@/server/routes/idv";
