export const dynamic = "force-dynamic";

export { userSignInTokensRoute as GET } from "@/server/routes/console";
