/**
 * The demo team's sign-ins, apart from the seed itself so that the end-to-end tests (and docs) can
 * import them without loading the database code.
 */
import type { StaffRole } from "@/lib/staff/rbac";

export const DEMO_STAFF: Array<{ email: string; name: string; role: StaffRole; password: string }> = [
  { email: "admin@demo.tokendesk.dev", name: "Ada Admin", role: "admin", password: "demo-admin-password" },
  { email: "support@demo.tokendesk.dev", name: "Sam Support", role: "support", password: "demo-support-password" },
  { email: "qa@demo.tokendesk.dev", name: "Quinn QA", role: "qa", password: "demo-qa-password" },
  { email: "auditor@demo.tokendesk.dev", name: "Avery Auditor", role: "auditor", password: "demo-auditor-password" },
];
