import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DomainError, ERROR_CODES, fromZodError, parseInput, zodProblems } from "@/lib/errors";

describe("the error vocabulary", () => {
  it("gives every code one status, whoever throws it", () => {
    expect(new DomainError("validation_failed").status).toBe(422);
    expect(new DomainError("invalid_filter", "Filter x").status).toBe(400);
    expect(new DomainError("user_not_found").message).toBe(ERROR_CODES.user_not_found.meaning);
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(spec.status, code).toBeGreaterThanOrEqual(400);
      expect(spec.meaning.endsWith("."), code).toBe(true);
    }
  });

  it("is the table the README documents for integrators, row for row", () => {
    const readme = fs.readFileSync(path.join(import.meta.dirname, "../../README.md"), "utf8");
    // The "Error codes" section only (other tables list metrics the same way), up to the next heading.
    const section = readme.slice(readme.search(/^#+ Error codes/m)).split(/\n#+ /)[0]!;
    // Rows as cells, whatever the column padding of the Markdown formatter.
    const rows = new Map(
      section
        .split("\n")
        .map((line) => line.split("|").map((cell) => cell.trim()))
        .filter((cells) => /^`[a-z_]+`$/.test(cells[1] ?? ""))
        .map((cells) => [cells[1]!.slice(1, -1), { status: Number(cells[2]), meaning: cells[3] }]),
    );
    expect(rows).toEqual(new Map(Object.entries(ERROR_CODES)));
  });
});

describe("zod failures as sentences", () => {
  const schema = z.object({
    userId: z.uuid("must be a user id").meta({ title: "the user" }),
    client_user_id: z.string("must be a string").min(1, "is required"),
    ttl: z.coerce.number().int("must be a whole number of seconds").min(60, "must be at least 60 seconds").optional().meta({ title: "Lifetime" }),
  });

  it("names a titled field by its title, capitalised, and a wire field as it is spelled", () => {
    const r = schema.safeParse({ userId: "nope", client_user_id: 42, ttl: "5" });
    expect(r.success).toBe(false);
    expect(zodProblems(r.error!, schema)).toEqual([
      { field: "userId", message: "The user must be a user id." },
      { field: "client_user_id", message: "client_user_id must be a string." },
      { field: "ttl", message: "Lifetime must be at least 60 seconds." },
    ]);
  });

  it("is one validation_failed error carrying every field's sentence", () => {
    const err = fromZodError(schema.safeParse({}).error!, schema);
    expect(err.code).toBe("validation_failed");
    expect(err.status).toBe(422);
    expect(err.message).toBe("The user must be a user id.");
    expect(err.extra.field).toBe("userId");
    expect(Object.keys(err.extra.fields as object)).toEqual(["userId", "client_user_id"]);
  });

  it("names filters as filters and answers them 400", () => {
    const filter = z.object({ from: z.coerce.date("must be a date") });
    let caught: unknown;
    try {
      parseInput(filter, { from: "yesterday" }, { code: "invalid_filter", subject: (f) => `Filter "${f}"` });
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: "invalid_filter", status: 400, message: 'Filter "from" must be a date.' });
  });
});
