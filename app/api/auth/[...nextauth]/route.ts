import { nextAuthHandler } from "@/server/next-auth";

export const dynamic = "force-dynamic";

export { nextAuthHandler as GET, nextAuthHandler as POST };
