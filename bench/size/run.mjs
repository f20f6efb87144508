#!/usr/bin/env node
// What the SDKs cost an app's bundle: each entry point bundled with esbuild the way an app's bundler would
// (minified, ESM, browser platform, the published `dist/` — no `development` condition), gzipped, and printed
// beside its budget (issue 12). `--check` exits 1 when one is over (test/size.test.ts runs it).
//
// Run: npm run build && node bench/size/run.mjs [--check] [--json]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const KB = 1024;

/** Entry points and their budgets (gzipped bytes). */
export const ENTRIES = [
  {
    name: "UTDSignaling + chat (getSession)",
    code: 'export { UTDSignaling, getSession, chatSessionFor } from "@utd-stream/signaling";',
    budget: 25 * KB,
  },
  {
    name: "@utd-stream/media without livekit-client",
    code: 'export * from "@utd-stream/media";',
    external: ["livekit-client"],
    budget: 12 * KB,
  },
  {
    name: "@utd-stream/react without React and the SDKs",
    code: 'export * from "@utd-stream/react";',
    external: ["react", "react-dom", "@utd-stream/protocol", "@utd-stream/signaling", "@utd-stream/media", "@utd-stream/widget"],
    budget: 6 * KB,
  },
  {
    name: "widget browser bundle (utd-widget.js)",
    widget: true,
    budget: 45 * KB,
  },
];

async function bundle(entry) {
  if (entry.widget) {
    // The drop-in file itself, built by the widget's own script into a scratch directory.
    const { buildBrowser } = await import(join(ROOT, "packages/widget/scripts/build-browser.mjs"));
    const dir = mkdtempSync(join(tmpdir(), "utd-size-"));
    try {
      await buildBrowser(dir);
      return { bytes: readFileSync(join(dir, "utd-widget.js")), zod: false };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const r = await build({
    stdin: { contents: entry.code, resolveDir: ROOT, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    external: entry.external ?? [],
    logLevel: "error",
  });
  const zod = Object.keys(r.metafile.inputs).some((p) => p.includes("node_modules/zod/"));
  return { bytes: r.outputFiles[0].contents, zod };
}

export async function measure() {
  const rows = [];
  for (const e of ENTRIES) {
    const { bytes, zod } = await bundle(e);
    rows.push({ name: e.name, minified: bytes.length, gzipped: gzipSync(bytes).length, budget: e.budget, zod });
  }
  return rows;
}

const kb = (n) => `${(n / KB).toFixed(1)} KB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await measure();
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else {
    process.stdout.write(`${"entry".padEnd(44)} ${"minified".padStart(10)} ${"gzipped".padStart(10)} ${"budget".padStart(10)}\n`);
    for (const r of rows) {
      const verdict = r.gzipped <= r.budget ? "ok" : "OVER";
      process.stdout.write(
        `${r.name.padEnd(44)} ${kb(r.minified).padStart(10)} ${kb(r.gzipped).padStart(10)} ${kb(r.budget).padStart(10)}  ${verdict}${r.zod ? " (bundles zod!)" : ""}\n`,
      );
    }
  }
  if (process.argv.includes("--check") && rows.some((r) => r.gzipped > r.budget || r.zod)) process.exit(1);
}
