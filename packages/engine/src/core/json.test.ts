import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import { MAX_JSON_DEPTH, parseClientJson } from "./json.js";

const refused = (text: string) => {
  try {
    parseClientJson(text);
  } catch (err) {
    return err instanceof ApiError ? err.code : "other";
  }
  return "parsed";
};

describe("client JSON", () => {
  it("parses ordinary JSON, strings with brackets and escapes, and well-formed surrogate pairs", () => {
    expect(parseClientJson('{"a":[1,{"b":"[{\\"}]"}],"e":"\\uD83D\\uDE00 \\u00e9 \\n"}')).toEqual({ a: [1, { b: '[{"}]' }], e: "😀 é \n" });
    expect(parseClientJson("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH))).toBeDefined();
  });
  it("refuses nesting past the limit without recursing (100,000 levels)", () => {
    expect(refused("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1))).toBe("invalid_argument");
    expect(refused(`{"a":${'{"k":'.repeat(100_000)}1${"}".repeat(100_000)}}`)).toBe("invalid_argument");
  });
  it("refuses lone surrogates in strings and keys", () => {
    for (const t of ['"x\\uD800"', '"x\\uDBFF"', '"\\uDC00b"', '{"\\uD800":1}', '"\\uD800\\u0041"', '"\\uD800\\\\uDC00"']) {
      expect([t, refused(t)]).toEqual([t, "invalid_argument"]);
    }
  });
  it("turns malformed JSON into invalid_argument", () => {
    expect(refused("{")).toBe("invalid_argument");
    expect(refused('{"a":1')).toBe("invalid_argument");
  });
});
