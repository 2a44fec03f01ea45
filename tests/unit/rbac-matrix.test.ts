/**
 * The RBAC matrix (e2e/rbac-matrix.ts) against the file system: every page, every console route and
 * every server action under app/ has a line, and every line names something that exists. Someone
 * who adds a page.tsx, a route.ts outside the machine API or an exported action without saying who
 * may use it gets a failure naming it here.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { machineFamilyOf } from "@/server/routes";
import { ACTIONS, PAGES, ROUTES } from "../../e2e/rbac-matrix";
import { ROOT } from "../helpers/server";

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...filesUnder(rel));
    else out.push(rel);
  }
  return out;
}

const APP = filesUnder("app");

/** "app/(console)/users/[id]/page.tsx" → "/users/[id]": route groups are not part of the URL. */
function routeOf(file: string, leaf: string): string {
  const parts = file
    .slice("app/".length, -leaf.length - 1)
    .split("/")
    .filter((p) => p !== "" && !/^\(.*\)$/.test(p));
  return `/${parts.join("/")}`;
}

/** The machine API's route files are covered by their own matrices (server/routes/index.ts). */
const isMachineRoute = (route: string) => machineFamilyOf(route.replace(/\[\.\.\.[^\]]+\]/, "any").replace(/\[([^\]]+)\]/g, ":$1")) !== null;

function exportedFunctions(file: string): string[] {
  const source = fs.readFileSync(path.join(ROOT, file), "utf8");
  return [...source.matchAll(/^export\s+(?:async\s+)?(?:const|let|function)\s+(\w+)/gm)].map((m) => m[1]!);
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe("the RBAC matrix lists everything under app/", () => {
  it("has a line for every page.tsx, and no line for a page that is gone", () => {
    const onDisk = sorted(APP.filter((f) => f.endsWith("/page.tsx")).map((f) => routeOf(f, "page.tsx")));
    expect(onDisk.length).toBeGreaterThan(15);
    expect(sorted(PAGES.map((p) => p.page)), "pages without a line in e2e/rbac-matrix.ts PAGES (or lines for pages that are gone)").toEqual(onDisk);
  });

  it("has a line for every route.ts outside the machine API, and no line for a route that is gone", () => {
    const routes = APP.filter((f) => f.endsWith("/route.ts")).map((f) => routeOf(f, "route.ts"));
    const console = sorted(routes.filter((r) => !isMachineRoute(r)));
    // The filter must leave the console's routes and take the machine API's away.
    expect(console).toEqual(expect.arrayContaining(["/audit/export", "/api/console/users/[id]/sessions"]));
    expect(routes.filter(isMachineRoute)).toEqual(expect.arrayContaining(["/v2/user", "/oauth/token", "/v1/[...path]"]));
    expect(sorted(ROUTES.map((r) => r.route)), "console routes without a line in e2e/rbac-matrix.ts ROUTES (or lines for routes that are gone)").toEqual(
      console,
    );
  });

  it("has a line for every exported function of every actions.ts, and no line for one that is gone", () => {
    const onDisk = sorted(APP.filter((f) => f.endsWith("/actions.ts")).flatMap((f) => exportedFunctions(f).map((name) => `${f} ${name}`)));
    expect(onDisk.length).toBeGreaterThanOrEqual(22);
    expect(sorted(ACTIONS.map((a) => `${a.file} ${a.action}`)), "server actions without a line in e2e/rbac-matrix.ts ACTIONS (or lines for gone ones)").toEqual(
      onDisk,
    );
  });

  it("finds server actions only in actions.ts files (so the list above is all of them)", () => {
    const elsewhere = [...APP, ...filesUnder("components"), ...filesUnder("server")].filter(
      (f) => /\.(ts|tsx)$/.test(f) && !f.endsWith("/actions.ts") && /["']use server["']/.test(fs.readFileSync(path.join(ROOT, f), "utf8")),
    );
    expect(elsewhere, 'a "use server" outside an app/**/actions.ts: move the action there and give it a line in the matrix').toEqual([]);
  });

  it("tries each environment-bound action and page on both environments", () => {
    for (const list of [
      PAGES.map((p) => ({ key: p.page, data: p.data })),
      ROUTES.map((r) => ({ key: r.route, data: r.data })),
      ACTIONS.map((a) => ({ key: `${a.file} ${a.action}`, data: a.data })),
    ]) {
      const byKey = new Map<string, Set<string>>();
      for (const { key, data } of list) byKey.set(key, (byKey.get(key) ?? new Set()).add(data));
      for (const [key, datas] of byKey) {
        if (datas.has("sandbox") || datas.has("production"))
          expect([...datas].sort(), `${key} is tried on sandbox and production data`).toEqual(["production", "sandbox"]);
      }
    }
  });
});
