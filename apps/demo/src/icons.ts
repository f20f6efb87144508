import { svgIcon } from "../../shared/icon.js";

/**
 * Inline SVG icons: the page draws no symbol from a font, so nothing shows as an empty box where a
 * system font lacks the glyph. Each icon is decorative (`aria-hidden`); the text next to it names it.
 */
const PATHS = {
  play: "M8 5v14l11-7z",
  hand: "M8 13V5.5a1.5 1.5 0 0 1 3 0V11M11 10V4.5a1.5 1.5 0 0 1 3 0V11M14 10.5V6a1.5 1.5 0 0 1 3 0v8a7 7 0 0 1-7 7h-.5a6 6 0 0 1-5-2.7L2 14.5a1.5 1.5 0 0 1 2.5-1.6L8 16",
  seen: "M2 12.5l4 4 8-9M10 15.5l1 1 8-9",
} as const;

/** An SVG icon (24×24 viewBox, currentColor). */
export function icon(name: keyof typeof PATHS, size = 16): SVGSVGElement {
  return svgIcon(PATHS[name], size, name === "play" ? "currentColor" : "none");
}
