// Builds the drop-in browser files the engine serves at /widget/: utd-widget.js (the web component and
// UTDEvents as window.UTDWidget) and the operator inbox (operator.html + operator.js).
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
/** Where the engine looks for them. */
export const BROWSER_DIST = here("../dist/browser");

export async function buildBrowser(outDir = BROWSER_DIST) {
  mkdirSync(outDir, { recursive: true });
  const common = {
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    conditions: ["development", "browser"],
    logLevel: "warning",
  };
  await build({
    ...common,
    entryPoints: [here("../src/browser.ts")],
    globalName: "UTDWidget",
    minify: true,
    outfile: `${outDir}/utd-widget.js`,
  });
  await build({ ...common, entryPoints: [here("../examples/operator.ts")], outfile: `${outDir}/operator.js` });
  copyFileSync(here("../examples/operator.html"), `${outDir}/operator.html`);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = await buildBrowser();
  process.stdout.write(`built ${dir}\n`);
}
