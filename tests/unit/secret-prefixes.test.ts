/**
 * The secrets-at-rest scan must know every kind of secret the server issues. Every short prefix
 * the code writes as a literal (`"dt_"`, `` `sit_${...}` ``) is either a secret family the scan
 * looks for (tests/helpers/secrets.ts) or listed there as not a secret, with the reason.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { NOT_SECRET_PREFIXES, SECRET_FAMILIES } from "../helpers/secrets";
import { ROOT } from "../helpers/server";

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return /\.(ts|tsx|mjs)$/.test(e.name) ? [rel] : [];
  });
}

/** Literals that are a bare prefix: a quote, 1–4 lower-case letters and "_", then the literal ends or interpolates. */
const PREFIX_LITERAL = /["'`]([a-z]{1,4}_)(?:["'`]|\$\{)/g;

describe("secret prefixes", () => {
  it("every prefix literal in the server's code is a scanned secret family or a named non-secret", () => {
    const known = new Set([...SECRET_FAMILIES.flatMap((f) => f.prefixes), ...Object.keys(NOT_SECRET_PREFIXES)]);
    const found = new Map<string, string>();
    for (const file of ["lib", "server", "app", "cli", "db"].flatMap(sources)) {
      for (const m of fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(PREFIX_LITERAL)) found.set(m[1]!, file);
    }
    // The scan must see the families it knows of, or the pattern above has gone blind.
    for (const p of ["dt_", "drt_", "ik_", "et_", "rt_", "sit_"]) expect(found.has(p), `${p} found in the code`).toBe(true);
    const unknown = [...found].filter(([p]) => !known.has(p)).map(([p, file]) => `${p} (${file})`);
    expect(unknown, "new secret prefixes: add them to SECRET_FAMILIES in tests/helpers/secrets.ts (or NOT_SECRET_PREFIXES, saying why)").toEqual([]);
  });

  it("each family's shape matches a secret of that family and no other family's", () => {
    const samples: Record<string, string> = {
      "Team API key": `sk_us_${"A".repeat(49)}`,
      "sign-in token": `sit_sandbox_eu_${"b".repeat(49)}`,
      "SDK refresh token": `rt_${"c".repeat(49)}`,
      InstanceKey: `ik_${"d".repeat(43)}`,
      DeviceToken: `dt_${"e".repeat(43)}`,
      "device refresh token": `drt_${"f".repeat(43)}`,
      "IDV ephemeral token": `et_${"0".repeat(32)}.abc123.${"g".repeat(43)}`,
      JWT: `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.${"h".repeat(40)}`,
      "webhook signing secret": `whsec_${"i".repeat(43)}=`,
    };
    expect(Object.keys(samples).sort()).toEqual(SECRET_FAMILIES.map((f) => f.what).sort());
    for (const family of SECRET_FAMILIES) {
      const matched = Object.entries(samples)
        .filter(([, sample]) => family.shape.test(`stored: ${sample};`))
        .map(([what]) => what);
      expect(matched, family.what).toEqual([family.what]);
    }
  });
});
