import { nextAuthHandler } from "@/lib/next/auth-route";

export const dynamic = "force-dynamic";

export { nextAuthHandler as GET, nextAuthHandler as POST };
