export const dynamic = "force-dynamic";

export { revokeSignInTokenRoute as DELETE } from "@/server/routes/users";
