import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Icons are inline SVG (issue 17): a symbol drawn from a font shows as an empty box where the system
// has no font with that glyph (Debian's Chromium, for one). This keeps pictographs out of the pages'
// sources: emoji, dingbats, geometric shapes and miscellaneous symbols.
const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const DIRS = ["apps/demo/src", "apps/console/src", "packages/widget/src"];
const GLYPH = /[\u{25A0}-\u{27BF}\u{2B00}-\u{2BFF}\u{1F000}-\u{1FAFF}]/u;

describe("inline SVG icons, no glyph icons", () => {
  it("the demo, the console and the widget draw no pictograph from a font", () => {
    const found: string[] = [];
    for (const dir of DIRS) {
      for (const f of readdirSync(join(ROOT, dir), { recursive: true }) as string[]) {
        if (!/\.(ts|css|json|html)$/.test(f)) continue;
        readFileSync(join(ROOT, dir, f), "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (GLYPH.test(line)) found.push(`${dir}/${f}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(found).toEqual([]);
  });
});
