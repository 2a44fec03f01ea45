/**
 * The upper bound of a prefix range (lib/users/search.ts): the one-statement user search reads the
 * `text_pattern_ops` indexes with `~>=~ prefix and ~<~ bound`, so the bound must be the least
 * string past every string that starts with the prefix, in code point (UTF-8 byte) order.
 */
import { describe, expect, it } from "vitest";
import { prefixUpperBound } from "@/lib/users/search";

const utf8 = (s: string) => Buffer.from(s, "utf8");
const startsWithByRange = (s: string, prefix: string) => {
  const bound = prefixUpperBound(prefix);
  return Buffer.compare(utf8(s), utf8(prefix)) >= 0 && (bound === null || Buffer.compare(utf8(s), utf8(bound)) < 0);
};

describe("prefixUpperBound", () => {
  it("increments the last code point", () => {
    expect(prefixUpperBound("cu_29007")).toBe("cu_29008");
    expect(prefixUpperBound("a.b@x")).toBe("a.b@y");
    expect(prefixUpperBound("zé")).toBe("zê");
    expect(prefixUpperBound("a😀")).toBe("a😁");
  });

  it("skips the surrogates and carries past the last code point", () => {
    expect(prefixUpperBound("a\u{d7ff}")).toBe("a\u{e000}");
    expect(prefixUpperBound("ab\u{10ffff}")).toBe("ac");
    expect(prefixUpperBound("\u{10ffff}\u{10ffff}")).toBeNull();
  });

  it("makes the range hold exactly the strings that start with the prefix", () => {
    const prefixes = ["ab", "a\u{10ffff}", "é", "x\u{d7ff}", "😀"];
    const candidates = [
      "",
      "a",
      "ab",
      "abc",
      "ab\u{10ffff}z",
      "ac",
      "aa\u{10ffff}",
      "a\u{10ffff}",
      "a\u{10ffff}!",
      "b",
      "é",
      "éa",
      "ê",
      "x\u{d7ff}y",
      "x\u{e000}",
      "😀",
      "😀x",
      "😁",
    ];
    for (const prefix of prefixes) {
      for (const s of candidates) expect(startsWithByRange(s, prefix), `${JSON.stringify(s)} / ${JSON.stringify(prefix)}`).toBe(s.startsWith(prefix));
    }
  });
});
