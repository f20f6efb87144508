import { ApiError } from "./errors.js";

/** How deep client JSON may nest (objects and arrays); deeper input is refused before it is parsed. */
export const MAX_JSON_DEPTH = 64;

const HEX = /^[0-9a-fA-F]{4}$/;

/**
 * Parses client JSON (HTTP bodies, WebSocket frames), refusing with `invalid_argument`:
 * - nesting deeper than `maxDepth` — validating such a value recurses once per level and would exhaust
 *   the stack (a 5,000-deep array answered `500 internal`);
 * - `\uD800`-style escapes that leave a lone surrogate — ill-formed Unicode that PostgreSQL stores as
 *   U+FFFD, so `"x\uD800"` and `"x\uDBFF"` would become the same identity there.
 * One pass over the text, no recursion, before `JSON.parse`.
 */
export function parseClientJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x22) inString = false;
      else if (c === 0x5c) {
        // Backslash: only \uXXXX needs a look; skip the escaped character otherwise.
        if (text.charCodeAt(i + 1) === 0x75) {
          const hex = text.slice(i + 2, i + 6);
          if (HEX.test(hex)) {
            const unit = Number.parseInt(hex, 16);
            if (unit >= 0xd800 && unit <= 0xdbff) {
              const next = text.slice(i + 6, i + 8) === "\\u" ? text.slice(i + 8, i + 12) : "";
              const low = HEX.test(next) ? Number.parseInt(next, 16) : -1;
              if (low < 0xdc00 || low > 0xdfff)
                throw ApiError.invalid("malformed JSON: a string holds a lone surrogate (ill-formed Unicode)");
              i += 11;
              continue;
            }
            if (unit >= 0xdc00 && unit <= 0xdfff)
              throw ApiError.invalid("malformed JSON: a string holds a lone surrogate (ill-formed Unicode)");
            i += 5;
            continue;
          }
        }
        i++;
      }
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw ApiError.invalid(`malformed JSON: nested deeper than ${maxDepth} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw ApiError.invalid(`malformed JSON: ${(err as Error).message}`);
  }
}
