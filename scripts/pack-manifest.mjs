#!/usr/bin/env node
// `prepack` / `postpack` of every published package: the tarball gets the manifest an app installs.
//
// In the repository each package's `exports` carries a `development` condition pointing at its TypeScript
// sources, so tests, the demo's Vite build and `tsc` read the code next to them without a build step. Vite
// and webpack set that condition in their dev servers too, so a published manifest that kept it would
// send an app's bundler to sources it cannot compile (issue 12: "Failed to resolve import"). npm has no
// `publishConfig.exports`, hence this pair: `prepack` writes the published manifest (no `development`
// condition, no pack scripts) and keeps the repository's one aside; `postpack` puts it back. `prepack`
// also deletes build output whose source is gone, so a tarball never ships a module that no longer exists.
//
// Usage (from a package directory): node ../../scripts/pack-manifest.mjs prepack|postpack
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the repository manifest waits while npm packs (a dot file: never in `files`, never published). */
export const BACKUP = ".package.json.repo";

/** Build output that has no TypeScript source of its own, per package (the widget's drop-in browser bundle). */
export const GENERATED_DIRS = { "@utd-stream/widget": ["dist/browser/"] };

/** Files tsc emits for `src/x.ts`. */
const EMITTED = [".js", ".js.map", ".d.ts", ".d.ts.map"];

/**
 * Build output in `dist/` whose source is gone (a module renamed or deleted since the last build: `tsc -b`
 * never removes what it emitted before). Such files would ship and stay importable.
 */
export function staleOutputs(dir, name) {
  const generated = GENERATED_DIRS[name] ?? [];
  const stale = [];
  const visit = (rel) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = `${rel}/${e.name}`;
      if (generated.some((g) => `${path}/`.startsWith(g))) continue;
      if (e.isDirectory()) {
        visit(path);
        continue;
      }
      const ext = EMITTED.find((x) => e.name.endsWith(x));
      if (!ext) continue;
      const src = `src${path.slice("dist".length, -ext.length)}.ts`;
      if (!existsSync(join(dir, src))) stale.push(path);
    }
  };
  if (existsSync(join(dir, "dist"))) visit("dist");
  return stale;
}

/** The manifest as published: the same object without `development` conditions and pack-time scripts. */
export function publishedManifest(pkg) {
  const out = structuredClone(pkg);
  if (out.exports !== undefined) out.exports = stripCondition(out.exports, "development");
  if (out.scripts) {
    delete out.scripts.prepack;
    delete out.scripts.postpack;
    if (Object.keys(out.scripts).length === 0) delete out.scripts;
  }
  return out;
}

function stripCondition(exp, condition) {
  if (exp === null || typeof exp !== "object" || Array.isArray(exp)) return exp;
  const out = {};
  for (const [k, v] of Object.entries(exp)) if (k !== condition) out[k] = stripCondition(v, condition);
  return out;
}

function main(step, dir = process.cwd()) {
  const file = join(dir, "package.json");
  const backup = join(dir, BACKUP);
  if (step === "prepack") {
    // A pack that failed before its postpack left the backup: the manifest on disk is already the published one.
    if (existsSync(backup)) return;
    const text = readFileSync(file, "utf8");
    for (const f of JSON.parse(text).files ?? []) {
      if (f === "dist" && !existsSync(join(dir, "dist"))) throw new Error(`${dir}: dist/ is missing; run \`npm run build\` first`);
    }
    for (const f of staleOutputs(dir, JSON.parse(text).name)) rmSync(join(dir, f));
    writeFileSync(backup, text);
    writeFileSync(file, `${JSON.stringify(publishedManifest(JSON.parse(text)), null, 2)}\n`);
  } else if (step === "postpack") {
    if (existsSync(backup)) renameSync(backup, file);
  } else {
    throw new Error(`usage: pack-manifest.mjs prepack|postpack (got ${step})`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv[2]);
