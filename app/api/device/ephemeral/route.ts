export const dynamic = "force-dynamic";

export { mintEphemeralTokenRoute as POST } from "@/server/routes/idv";
