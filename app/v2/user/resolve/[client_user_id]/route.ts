export const dynamic = "force-dynamic";

export { resolveUserRoute as GET } from "@/server/routes/users";
