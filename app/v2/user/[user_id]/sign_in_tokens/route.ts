export const dynamic = "force-dynamic";

export { listSignInTokensRoute as GET } from "@/server/routes/users";
