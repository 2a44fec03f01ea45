/**
 * The audit page as an auditor: filters live in the URL, keyset pages ("Older events"), CSV and
 * NDJSON export of exactly the filtered set, and the chain verification button.
 */

import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { authFile, createKeyInConsole, failSignInFrom, snap, unique } from "./fixtures";

test.use({ storageState: authFile("auditor") });

const EVENTS = 63;
let prefix: string;

test.beforeAll(async ({ baseURL }) => {
  // 63 failed sign-ins for made-up accounts sharing a prefix, each from its own address (one audit
  // row per address and 10 minutes): a filterable set nobody else writes to. The addresses are
  // picked per run, so a second run within 10 minutes on the same server is audited too.
  prefix = unique("paging");
  const block = 2 + Math.floor(Math.random() * 250);
  for (let i = 0; i < EVENTS; i++) {
    const landed = await failSignInFrom(baseURL!, `127.${block}.0.${i + 2}`, `${prefix}-${String(i).padStart(2, "0")}@e2e.test`);
    expect(landed).toContain("error=");
  }
});

test("filters through the URL, pages with keyset cursors, exports the filtered set", async ({ page }) => {
  test.setTimeout(120_000); // two exports and four page loads of 50 rows on a busy machine
  await page.goto("/audit");
  const filters = page.getByRole("form", { name: "Filter the audit log" });
  await filters.getByLabel("Actor").fill(`${prefix}-`);
  await filters.getByLabel("Action").selectOption("staff.sign_in_failed");
  await filters.getByLabel("Outcome").selectOption("failure");
  await filters.getByRole("button", { name: "Apply filters" }).click();

  await expect(page).toHaveURL(new RegExp(`actor=${prefix}-.*action=staff.sign_in_failed.*outcome=failure`));
  const rows = page.getByTestId("audit-row");
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText(`${prefix}-62@e2e.test`); // newest first
  await expect(rows.nth(49)).toContainText(`${prefix}-13@e2e.test`);
  await expect(page.getByRole("link", { name: "First page" })).toHaveCount(0);
  await snap(page, "audit-filtered");

  // The filter survives a reload from the URL alone (a shareable link).
  await page.reload();
  await expect(filters.getByLabel("Actor")).toHaveValue(`${prefix}-`);
  await expect(rows).toHaveCount(50);

  await page.getByRole("link", { name: "Older events →" }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(page).toHaveURL(/action=staff.sign_in_failed/);
  await expect(rows).toHaveCount(EVENTS - 50);
  await expect(rows.first()).toContainText(`${prefix}-12@e2e.test`);
  await expect(rows.last()).toContainText(`${prefix}-00@e2e.test`);
  await expect(page.getByRole("link", { name: "Older events →" })).toHaveCount(0);
  await snap(page, "audit-page-2");
  await page.getByRole("link", { name: "First page" }).click();
  await expect(page).not.toHaveURL(/cursor=/);
  await expect(rows).toHaveCount(50);

  // CSV: a header and one line per event of the filtered set, newest first.
  const csvDownload = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const csv = fs
    .readFileSync((await (await csvDownload).path())!, "utf8")
    .trimEnd()
    .split("\n");
  expect(csv[0]).toBe("id,occurred_at,actor_type,actor_id,actor_name,action,target_type,target_id,environment,outcome,reason,request_id,ip,user_agent,details");
  expect(csv).toHaveLength(EVENTS + 1);
  expect(csv[1]).toContain(`anonymous,,${prefix}-62@e2e.test,staff.sign_in_failed,`);
  expect(csv.slice(1).every((l) => l.includes(",staff.sign_in_failed,") && l.includes(",failure,"))).toBe(true);

  const ndjsonDownload = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export NDJSON" }).click();
  const download = await ndjsonDownload;
  expect(download.suggestedFilename()).toMatch(/^tokendesk-audit-.*\.ndjson$/);
  const records = fs
    .readFileSync((await download.path())!, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as { actor_name: string; action: string; outcome: string; details: { reason: string } });
  expect(records.map((r) => r.actor_name)).toEqual(Array.from({ length: EVENTS }, (_, i) => `${prefix}-${String(EVENTS - 1 - i).padStart(2, "0")}@e2e.test`));
  expect(records.every((r) => r.action === "staff.sign_in_failed" && r.outcome === "failure" && r.details.reason === "invalid")).toBe(true);
});

test("verifies the chain and says it is intact", async ({ page }) => {
  await page.goto("/audit");
  await page.getByRole("button", { name: "Verify the chain now" }).click();
  const result = page.getByRole("status").filter({ hasText: "Verified" });
  await expect(result).toContainText(/The audit log is intact: \d+ events and \d+ seals checked\./);
  await snap(page, "audit-verified");
});

test("shows the latest anchor, verifies against it, and names an anchor the log no longer reaches", async ({ page }) => {
  await page.goto("/audit");
  const latest = page.getByTestId("latest-anchor");
  await expect(latest).toContainText(/Latest anchor/);
  const anchor = (await latest.locator("code").textContent())!;
  expect(anchor).toMatch(/^\d+:[A-Za-z0-9_-]{43}$/);
  await page.getByLabel("Anchor to check against (optional)").fill(anchor);
  await page.getByRole("button", { name: "Verify the chain now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Verified" })).toContainText(`It still reaches the anchor ${anchor}.`);
  // An anchor from a longer log than this one (as after its tail was cut): named, not "intact".
  const [seq] = anchor.split(":");
  await page.getByLabel("Anchor to check against (optional)").fill(`${Number(seq) + 1000}:${"A".repeat(43)}`);
  await page.getByRole("button", { name: "Verify the chain now" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Tampering detected" })).toContainText(`The anchor names seal #${Number(seq) + 1000}`);
  await page.getByLabel("Anchor to check against (optional)").fill("not an anchor");
  await page.getByRole("button", { name: "Verify the chain now" }).click();
  await expect(page.getByText("That is not an anchor")).toBeVisible();
});

test("explains bad filters and cursors in the URL instead of failing", async ({ page }) => {
  for (const [query, sentence] of [
    ["from=yesterday", 'Filter "from" must be a date.'],
    ["environment=staging", 'Filter "environment"'],
    ["cursor=not-a-cursor", "The page cursor is not valid; start again from the first page."],
  ]) {
    const res = await page.goto(`/audit?${query}`);
    expect(res!.status()).toBe(200);
    await expect(page.getByRole("main").getByRole("alert")).toContainText(sentence!);
  }
  const res = await page.request.get("/audit/export?format=xml");
  expect(res.status()).toBe(422);
  expect(await res.json()).toEqual({ error: { code: "validation_failed", message: "format must be csv or ndjson." } });
});

test("an entry opens a drawer with its details in words and a link to its target", async ({ page, browser }) => {
  // Issue 14, point 9: readable details (never raw JSON) and the target linked. The spec makes its
  // own user.created event rather than relying on another spec's.
  const key = await createKeyInConsole(browser, unique("e2e audit drawer key"));
  const created = await page.request.post("/v2/user", { headers: { "X-Vital-API-Key": key }, data: { client_user_id: unique("audit-drawer") } });
  expect(created.status()).toBe(200);
  await page.goto("/audit?action=user.created");
  const row = page.getByTestId("audit-row").first();
  await row.getByRole("button", { name: /^Details of User created at / }).click();
  const drawer = page.getByRole("dialog", { name: "User created" });
  await expect(drawer).toBeVisible();
  await expect(drawer).toContainText("Outcome");
  await expect(drawer).not.toContainText("{");
  const target = drawer.getByRole("link", { name: /^[0-9a-f-]{36}$/ }).first();
  const href = await target.getAttribute("href");
  expect(href).toMatch(/^\/users\/[0-9a-f-]{36}$/);
  await page.keyboard.press("Escape");
  await expect(drawer).toBeHidden();
  await expect(row.getByRole("button", { name: /^Details of / })).toBeFocused();
  await page.goto(href!);
  await expect(page.getByRole("link", { name: "← Users" })).toBeVisible();
});
