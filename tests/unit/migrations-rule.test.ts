/**
 * The expand/contract rule (scripts/check-migrations.mjs): every shipped migration passes it, and
 * each way a migration could break the previous release during a rolling upgrade is refused.
 */
import { describe, expect, it } from "vitest";
import { checkMigrations, compareSnapshots, type Snapshot } from "../../scripts/check-migrations.mjs";

const users = (columns: Record<string, { type: string; notNull?: boolean; default?: unknown }>): Snapshot => ({
  tables: { "public.users": { name: "users", columns: Object.fromEntries(Object.entries(columns).map(([n, c]) => [n, { name: n, ...c }])) } },
});
const base = users({ id: { type: "uuid", notNull: true }, email: { type: "text" }, status: { type: "text", notNull: true, default: "'active'" } });

describe("expand/contract", () => {
  it("passes every migration in db/migrations", () => {
    const { migrations, problems } = checkMigrations();
    expect(migrations).toBeGreaterThanOrEqual(5);
    expect(problems).toEqual([]);
  });

  it("allows adding tables, nullable columns and columns with a default", () => {
    const next = users({
      id: { type: "uuid", notNull: true },
      email: { type: "text" },
      status: { type: "text", notNull: true, default: "'active'" },
      nickname: { type: "text" },
      tier: { type: "integer", notNull: true, default: 0 },
    });
    next.tables!["public.extra"] = { name: "extra", columns: { id: { name: "id", type: "uuid", notNull: true, primaryKey: true } } };
    expect(compareSnapshots(base, next)).toEqual([]);
  });

  it.each([
    ["a dropped table", { tables: {} }, /drops table users/],
    [
      "a dropped (or renamed) column",
      users({ id: { type: "uuid", notNull: true }, status: { type: "text", notNull: true, default: "'active'" } }),
      /drops or renames column users\.email/,
    ],
    [
      "a changed type",
      users({ id: { type: "uuid", notNull: true }, email: { type: "varchar(80)" }, status: { type: "text", notNull: true, default: "'active'" } }),
      /changes the type of users\.email/,
    ],
    [
      "a column made NOT NULL",
      users({ id: { type: "uuid", notNull: true }, email: { type: "text", notNull: true }, status: { type: "text", notNull: true, default: "'active'" } }),
      /makes users\.email NOT NULL/,
    ],
    [
      "a dropped default",
      users({ id: { type: "uuid", notNull: true }, email: { type: "text" }, status: { type: "text", notNull: true } }),
      /drops the default of NOT NULL users\.status/,
    ],
    [
      "a NOT NULL column without a default",
      users({
        id: { type: "uuid", notNull: true },
        email: { type: "text" },
        status: { type: "text", notNull: true, default: "'active'" },
        region: { type: "text", notNull: true },
      }),
      /adds NOT NULL column users\.region without a default/,
    ],
  ] as const)("refuses %s", (_what, next, problem) => {
    const problems = compareSnapshots(base, next as Snapshot);
    expect(problems.length).toBe(1);
    expect(problems[0]).toMatch(problem);
  });

  it("lets a contract migration remove what it names", () => {
    const next = users({ id: { type: "uuid", notNull: true }, status: { type: "text", notNull: true, default: "'active'" } });
    expect(compareSnapshots(base, next, new Set(["users.email"]))).toEqual([]);
  });
});
