"use client";
import { usePathname } from "next/navigation";
import { type ReactNode, useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { NavLinks } from "./nav-links";

/**
 * The console's navigation: a sidebar from 1024 px up; below that (tablets, narrow windows) a bar
 * with a Menu button that opens the same links and the signed-in member's card, closing again when
 * a link is followed.
 */
export function ConsoleSidebar({ items, identity }: { items: Array<{ href: string; label: string }>; identity: ReactNode }) {
  const [open, setOpen] = useState(false);
  const pathname = usePathname();
  // biome-ignore lint/correctness/useExhaustiveDependencies: closing on navigation is the point
  useEffect(() => setOpen(false), [pathname]);
  return (
    <aside className="border-b border-slate-200 bg-white px-3 py-3 lg:sticky lg:top-0 lg:flex lg:h-screen lg:w-56 lg:shrink-0 lg:flex-col lg:overflow-y-auto lg:border-r lg:border-b-0 lg:py-4">
      <div className="flex items-center justify-between px-3 lg:pb-4">
        <p className="text-lg font-semibold tracking-tight">tokendesk</p>
        <Button variant="secondary" size="sm" className="lg:hidden" aria-expanded={open} aria-controls="console-nav" onClick={() => setOpen((o) => !o)}>
          {open ? "Close menu" : "Menu"}
        </Button>
      </div>
      <div id="console-nav" data-testid="console-nav" className={cn(open ? "flex" : "hidden", "mt-3 flex-col lg:mt-0 lg:flex lg:flex-1")}>
        <NavLinks items={items} />
        <div className="mt-4 border-t border-slate-200 px-3 pt-4 lg:mt-auto" data-testid="staff-identity">
          {identity}
        </div>
      </div>
    </aside>
  );
}
