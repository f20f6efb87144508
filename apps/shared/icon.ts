/**
 * One inline SVG icon (24×24 viewBox, stroked with currentColor) for the demo page and the operator console:
 * no icon font, so nothing shows as an empty box where a system font lacks a glyph. Decorative
 * (`aria-hidden`): the text or the control around it names it.
 */
export function svgIcon(d: string, size: number, fill: "none" | "currentColor" = "none"): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const attrs: Record<string, string> = {
    viewBox: "0 0 24 24",
    width: String(size),
    height: String(size),
    fill,
    stroke: "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    focusable: "false",
    class: "icon",
  };
  for (const [k, v] of Object.entries(attrs)) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}
