/**
 * The one walk every machine body goes through (server/http.ts parseJsonText / unfitText): a NUL or
 * a lone surrogate anywhere — value or key, at any depth — is named, nesting deeper than 32 is
 * refused, and well-formed text (astral characters included) passes untouched.
 */
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, parseJsonText, unfitText } from "@/server/http";

describe("unfitText", () => {
  it.each([
    ["a\u0000b", "contains a NUL character"],
    ["a\ud800b", "is not valid Unicode text"],
    ["\udc00", "is not valid Unicode text"],
    ["x\ud83d", "is not valid Unicode text"],
  ])("refuses %j", (text, why) => {
    expect(unfitText(text)).toBe(why);
  });

  it.each(["", "plain", "héllo wörld", "emoji 😀 pair", "\ud83d\ude00"])("accepts %j", (text) => {
    expect(unfitText(text)).toBeNull();
  });
});

describe("parseJsonText", () => {
  it("names the field holding bad text, at any depth and in arrays", () => {
    expect(parseJsonText(JSON.stringify({ a: { b: ["ok", "x\u0000"] } }))).toEqual({
      ok: false,
      kind: "text",
      message: "a.b[1] contains a NUL character.",
      field: "a.b[1]",
    });
    expect(parseJsonText(JSON.stringify({ client_user_id: "\ud800" }))).toMatchObject({ ok: false, kind: "text", field: "client_user_id" });
    expect(parseJsonText(JSON.stringify("\u0000"))).toMatchObject({ ok: false, kind: "text", field: null, message: "The body contains a NUL character." });
  });

  it("refuses a bad key without echoing it", () => {
    const r = parseJsonText(JSON.stringify({ "k\u0000": 1 }));
    expect(r).toMatchObject({ ok: false, kind: "text", message: "A field name contains a NUL character." });
  });

  it("refuses nesting deeper than the limit, and syntax errors, as their own kinds", () => {
    const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    expect(parseJsonText(deep(MAX_JSON_DEPTH)).ok).toBe(true);
    expect(parseJsonText(deep(MAX_JSON_DEPTH + 1))).toMatchObject({ ok: false, kind: "depth" });
    expect(parseJsonText(deep(5000))).toMatchObject({ ok: false, kind: "depth" });
    expect(parseJsonText("{")).toMatchObject({ ok: false, kind: "syntax", message: "The body is not valid JSON." });
  });

  it("hands back the value of a clean body", () => {
    expect(parseJsonText('{"name":"Ada 😀","n":[1,2,{"x":null}]}')).toEqual({ ok: true, value: { name: "Ada 😀", n: [1, 2, { x: null }] } });
  });
});
