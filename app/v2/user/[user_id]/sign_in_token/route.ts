export const dynamic = "force-dynamic";

export { issueSignInTokenRoute as POST } from "@/server/routes/users";
