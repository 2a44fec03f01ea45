/**
 * The accessibility check every console and phone page passes: axe-core (WCAG 2.x A and AA rules)
 * on the page as it is, failing on any serious or critical violation with a list a person can act
 * on (rule, impact, the first offending elements).
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";

export async function expectAccessible(page: Page, what = page.url(), opts: { soft?: boolean } = {}): Promise<void> {
  // Legacy mode: axe.run() in the page itself. The default (runPartial in each frame, then
  // finishRun in a blank page the builder opens, fills with axe-core and closes again) runs the
  // same rules on the same DOM and reports the same violations, but the blank page cost 1.4–2.0 s
  // per call even with a single trivial rule (measured on /, /users, /audit, /staff, …: a full
  // run 1.7–4.8 s). The console's pages have no cross-origin frames, which is all legacy mode gives up.
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).setLegacyMode(true).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map(
    (v) =>
      `${v.impact} ${v.id}: ${v.help}\n${v.nodes
        .slice(0, 5)
        .map((n) => `    ${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1, 2).join("").trim() ?? ""}`)
        .join("\n")}`,
  );
  (opts.soft ? expect.soft : expect)(report, `axe on ${what}`).toEqual([]);
}

/**
 * Nothing on the page is wider than the window (no sideways scrolling), no table is wider than
 * the card it sits in, and every select is wide enough to show its chosen option in full.
 */
export async function expectFits(page: Page, what = page.url(), opts: { soft?: boolean } = {}): Promise<void> {
  const problems = await page.evaluate(() => {
    const out: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth + 1) out.push(`page is ${doc.scrollWidth}px wide in a ${window.innerWidth}px window`);
    for (const table of document.querySelectorAll("main table")) {
      const box = table.parentElement!;
      if ((table as HTMLElement).offsetWidth > box.clientWidth + 1) {
        out.push(`table "${table.querySelector("th")?.textContent ?? ""}…" is ${(table as HTMLElement).offsetWidth}px in ${box.clientWidth}px`);
      }
    }
    const canvas = document.createElement("canvas").getContext("2d")!;
    for (const select of document.querySelectorAll<HTMLSelectElement>("main select")) {
      if (!select.offsetParent) continue;
      const style = getComputedStyle(select);
      canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const text = select.selectedOptions[0]?.textContent ?? "";
      const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      if (canvas.measureText(text).width > room + 1)
        out.push(`select ${select.name || select.id} cuts "${text}" (${Math.ceil(canvas.measureText(text).width)}px in ${room}px)`);
    }
    return out;
  });
  (opts.soft ? expect.soft : expect)(problems, `layout of ${what}`).toEqual([]);
}
