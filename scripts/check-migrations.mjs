#!/usr/bin/env node
/**
 * The expand/contract rule, checked on every migration (`npm test` step "migrations", CI):
 * a rolling upgrade runs release N and N+1 side by side on a database migrated by N+1, so a
 * migration may only *expand* what release N reads and writes. Compared snapshot by snapshot
 * (db/migrations/meta/NNNN_snapshot.json against the one before it), a migration must not:
 *   - drop a table or a column, or rename one (a rename is a drop plus an add);
 *   - change a column's type;
 *   - make an existing nullable column NOT NULL, or drop a default an existing NOT NULL column had;
 *   - add a NOT NULL column without a default to an existing table (release N's inserts lack it).
 * A *contract* step (removing what no release still running reads) is its own migration, shipped
 * one release after the code stopped reading it, and names each removal on a line of its SQL:
 *   -- contract: users.legacy_field      (or: -- contract: table_name)
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The problems of going from snapshot `prev` to `next`; `allowed` holds `table` / `table.column` names. */
export function compareSnapshots(prev, next, allowed = new Set()) {
  const problems = [];
  for (const [key, table] of Object.entries(prev.tables ?? {})) {
    const name = table.name;
    const after = next.tables?.[key];
    if (!after) {
      if (!allowed.has(name)) problems.push(`drops table ${name}, which the previous release reads`);
      continue;
    }
    for (const [colName, col] of Object.entries(table.columns)) {
      const now = after.columns[colName];
      const id = `${name}.${colName}`;
      if (!now) {
        if (!allowed.has(id)) problems.push(`drops or renames column ${id}, which the previous release reads`);
        continue;
      }
      if (now.type !== col.type && !allowed.has(id)) problems.push(`changes the type of ${id} (${col.type} → ${now.type})`);
      if (!col.notNull && now.notNull && !allowed.has(id)) problems.push(`makes ${id} NOT NULL: the previous release may write null`);
      if (col.notNull && col.default !== undefined && now.default === undefined && !allowed.has(id)) {
        problems.push(`drops the default of NOT NULL ${id}: the previous release's inserts rely on it`);
      }
    }
    for (const [colName, col] of Object.entries(after.columns)) {
      if (!table.columns[colName] && col.notNull && col.default === undefined && !col.primaryKey) {
        problems.push(`adds NOT NULL column ${name}.${colName} without a default: the previous release's inserts would fail`);
      }
    }
  }
  for (const [key, values] of Object.entries(prev.enums ?? {})) {
    const after = next.enums?.[key];
    for (const v of values.values ?? []) if (!after?.values?.includes(v)) problems.push(`removes value ${v} of enum ${values.name}`);
  }
  return problems;
}

/** Every migration of `dir` checked against the one before it. */
export function checkMigrations(dir = path.join(root, "db", "migrations")) {
  const journal = JSON.parse(fs.readFileSync(path.join(dir, "meta", "_journal.json"), "utf8"));
  const problems = [];
  let prev = null;
  for (const entry of journal.entries) {
    const snapshot = JSON.parse(fs.readFileSync(path.join(dir, "meta", `${String(entry.idx).padStart(4, "0")}_snapshot.json`), "utf8"));
    const sqlText = fs.readFileSync(path.join(dir, `${entry.tag}.sql`), "utf8");
    const allowed = new Set([...sqlText.matchAll(/^--\s*contract:\s*([\w.]+)/gm)].map((m) => m[1]));
    if (prev) for (const p of compareSnapshots(prev, snapshot, allowed)) problems.push(`${entry.tag}: ${p}`);
    // Hand-written SQL is checked by words too: the snapshot does not see a rename done in SQL.
    for (const m of sqlText.matchAll(/\b(drop\s+(table|column)|rename\s+(to|column))\b[^;]*/gi)) {
      const named = [...allowed].some((a) => m[0].toLowerCase().includes(a.split(".").pop().toLowerCase()));
      if (!named) problems.push(`${entry.tag}: "${m[0].trim().slice(0, 80)}" needs a "-- contract:" line naming what it removes`);
    }
    prev = snapshot;
  }
  return { migrations: journal.entries.length, problems };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { migrations, problems } = checkMigrations();
  if (problems.length) {
    console.error(`Migrations break the expand/contract rule (README, Rolling upgrades):\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`migrations: ${migrations} checked, each only expands what the release before it reads.`);
}
