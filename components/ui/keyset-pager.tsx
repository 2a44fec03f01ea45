import { Link } from "@/components/ui/link";
import { Button } from "./button";

/**
 * "First page" / "Older …" links of a keyset-paged list. `params` are the list's filters without
 * the cursor, so every page link keeps them and can be shared.
 */
export function KeysetPager({
  path,
  params,
  nextCursor,
  onLaterPage,
  nextLabel,
  cursorParam = "cursor",
}: {
  path: string;
  params: URLSearchParams;
  nextCursor: string | null;
  /** True when showing a page after the first (a cursor is in the URL). */
  onLaterPage: boolean;
  nextLabel: string;
  /** The query parameter that carries the cursor. */
  cursorParam?: string;
}) {
  if (!onLaterPage && !nextCursor) return null;
  const first = new URLSearchParams(params);
  first.delete(cursorParam);
  const next = new URLSearchParams(first);
  if (nextCursor) next.set(cursorParam, nextCursor);
  return (
    <nav aria-label="Pages" className="mt-4 flex gap-2">
      {onLaterPage ? (
        <Button asChild variant="secondary" size="sm">
          <Link href={first.size ? `${path}?${first}` : path}>First page</Link>
        </Button>
      ) : null}
      {nextCursor ? (
        <Button asChild variant="secondary" size="sm">
          <Link href={`${path}?${next}`}>{nextLabel} →</Link>
        </Button>
      ) : null}
    </nav>
  );
}
