import type { Metadata } from "next";
import { JwtInspector } from "@/components/inspector/jwt-inspector";
import { PageHeader } from "@/components/ui/card";
import { requireStaffPage } from "@/server/staff-session";
import { inspectJwtAction } from "./actions";

export const metadata: Metadata = { title: "JWT inspector" };

export default async function InspectorPage() {
  await requireStaffPage("devices:read");
  return (
    <>
      <PageHeader
        title="JWT inspector"
        description="Paste a token tokendesk issued — a device JWT or an SDK access token — to see its header and claims, whether its signature verifies against tokendesk's keys, when it expires, and whether its device, session or user is disabled or revoked."
      />
      <JwtInspector action={inspectJwtAction} />
    </>
  );
}
