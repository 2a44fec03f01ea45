export const dynamic = "force-dynamic";

export { createDeeplinkRoute as POST } from "@/server/routes/idv";
