"use client";
import { type ReactNode, useEffect, useRef, useState } from "react";

/**
 * A box that scrolls sideways when its content is wider than it (a table at 1024 px). While it does,
 * it is a keyboard stop (Tab to it, then the arrow keys scroll) with a name, as WCAG asks of a
 * scrollable region; while everything fits it is a plain box and adds no stop.
 */
export function ScrollRegion({ label, children }: { label?: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  // Until the browser has measured it, assume it scrolls: the server's HTML is reachable by keyboard
  // whatever the window's width.
  const [scrolls, setScrolls] = useState(true);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const check = () => setScrolls(el.scrollWidth > el.clientWidth + 1);
    check();
    const observer = new ResizeObserver(check);
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return (
    <div
      ref={ref}
      className="overflow-x-auto focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      {...(scrolls ? { tabIndex: 0, role: "region", "aria-label": label ?? "Table (scrolls sideways)" } : {})}
    >
      {children}
    </div>
  );
}
