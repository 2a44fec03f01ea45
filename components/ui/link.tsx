"use client";
import NextLink from "next/link";
import { type ComponentProps, useState } from "react";

/**
 * The console's link: `next/link` that prefetches its page when the user shows intent (pointer
 * over it, keyboard focus, a touch), not when it scrolls into view. Use it instead of `next/link`.
 *
 * Every console page is dynamic and has no loading boundary, so a viewport prefetch is a full
 * server render of the target page (session, permission checks, its queries). The sidebar alone
 * has ~15 links and the lists link every row, so each page view cost the server ~15 such renders
 * of pages nobody opened (and the two- or three-request segment prefetch of each). With intent,
 * a page view costs one render, plus one for each link the user reaches for — usually the one
 * they then click, whose render is then already on its way.
 *
 * The pattern is Next.js' "Hover-triggered prefetch" (docs, guides/prefetching):
 * `prefetch={false}` until intent, then `null` (the default) so Next prefetches as it would have.
 */
export function Link({ prefetch, onMouseEnter, onFocus, onTouchStart, ...props }: ComponentProps<typeof NextLink>) {
  const [intent, setIntent] = useState(false);
  return (
    <NextLink
      {...props}
      prefetch={prefetch === false || !intent ? false : (prefetch ?? null)}
      onMouseEnter={(e) => {
        setIntent(true);
        onMouseEnter?.(e);
      }}
      onFocus={(e) => {
        setIntent(true);
        onFocus?.(e);
      }}
      onTouchStart={(e) => {
        setIntent(true);
        onTouchStart?.(e);
      }}
    />
  );
}
