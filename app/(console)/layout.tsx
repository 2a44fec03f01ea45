import type { ReactNode } from "react";
import { ConsoleSidebar } from "@/components/shell/console-sidebar";
import { NAV_ITEMS } from "@/components/shell/navigation";
import { SignOutButton } from "@/components/shell/sign-out-button";
import { DemoWarning } from "@/components/staff/demo-warning";
import { Badge } from "@/components/ui/badge";
import { FailingEndpointsBanner } from "@/components/webhooks/failing-banner";
import { getDb } from "@/db";
import { demoAccountCount } from "@/lib/demo";
import { can, ROLE_LABELS } from "@/lib/staff/rbac";
import { failingEndpoints } from "@/lib/webhooks/endpoints";
import { requireStaffPage } from "@/server/staff-session";

import { removeDemoTeamAction } from "./staff/actions";

export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const actor = await requireStaffPage();
  const items = NAV_ITEMS.filter((i) => can(actor.role, i.permission));
  const demoAccounts = can(actor.role, "staff:manage") ? await demoAccountCount(await getDb()) : 0;
  // Endpoints the dispatcher disabled after a day of failures: a banner on every console page for
  // those who may see webhooks, until an admin enables or deletes them.
  const failing = can(actor.role, "webhooks:read") ? await failingEndpoints(await getDb(), actor) : [];
  return (
    <div className="min-h-screen lg:flex">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <ConsoleSidebar
        items={items.map(({ href, label }) => ({ href, label }))}
        identity={
          <>
            <p className="truncate text-sm font-medium text-slate-900">{actor.displayName}</p>
            <p className="truncate text-xs text-slate-600">{actor.email}</p>
            <Badge tone="info" className="mt-2">
              {ROLE_LABELS[actor.role]}
            </Badge>
            {actor.role === "qa" ? <p className="mt-1 text-xs text-slate-600">Sandbox only</p> : null}
            <div className="mt-3">
              <SignOutButton />
            </div>
          </>
        }
      />
      <main id="main" className="min-w-0 flex-1 px-4 py-6 sm:px-6 lg:px-8 lg:py-8">
        {demoAccounts ? <DemoWarning count={demoAccounts} action={removeDemoTeamAction} /> : null}
        <FailingEndpointsBanner endpoints={failing} className="mb-6" />
        {children}
      </main>
    </div>
  );
}
