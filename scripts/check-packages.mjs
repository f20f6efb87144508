#!/usr/bin/env node
// Packs every published package the way `npm publish` would and checks what an app would install:
//   - publint (strict) and @arethetypeswrong/cli (ESM-only profile) on the tarball;
//   - a LICENSE in every tarball;
//   - the published manifest: no `development` condition, no pack scripts, version ranges between our
//     packages that the sibling versions satisfy;
//   - every bare import in dist/ is a declared dependency (or a Node built-in) — an engine installed on
//     its own must load;
//   - every source map points at files inside the tarball;
//   - dist/ holds no build output of a source file that no longer exists.
//
// Usage: node scripts/check-packages.mjs [--keep DIR]   (run `npm run build` first; exits 1 on a problem)
// `packAll(dir)` is also used by the pack-and-install smoke test.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { GENERATED_DIRS } from "./pack-manifest.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The packages we publish, in dependency order. */
export const PUBLISHED = ["protocol", "engine", "signaling", "media", "widget", "react"];

/** `npm pack` of one package into `dest`; resolves to the tarball's path. */
export function pack(name, dest) {
  mkdirSync(dest, { recursive: true });
  const dir = join(ROOT, "packages", name);
  const out = execFileSync("npm", ["pack", "--json", "--foreground-scripts=false", "--pack-destination", dest], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  // npm may print lifecycle banners before the JSON; the JSON array is the last thing on stdout.
  const json = JSON.parse(out.slice(out.indexOf("[\n")));
  return join(dest, json[0].filename);
}

/** Packs every published package into `dest`; resolves to `{ name: tarballPath }`. */
export function packAll(dest) {
  return Object.fromEntries(PUBLISHED.map((n) => [n, pack(n, dest)]));
}

function untar(tgz, into) {
  mkdirSync(into, { recursive: true });
  execFileSync("tar", ["xzf", tgz, "-C", into]);
  return join(into, "package");
}

function walk(dir, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(p.slice(base.length + 1));
  }
  return out;
}

const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** The package a bare specifier names (`@scope/x/y` → `@scope/x`, `x/y` → `x`). */
function packageOf(spec) {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Bare module specifiers imported (statically or dynamically) by a compiled ES module. */
export function bareImports(source) {
  // Comments (doc examples) may mention packages; esbuild reprints the module without them.
  const code = transformSync(source, { format: "esm", legalComments: "none" }).code;
  const found = new Set();
  const re =
    /(?:^|[;\s})])(?:import|export)\s[^"'`;]*?\sfrom\s*["']([^"']+)["']|(?:^|[;\s])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;
  for (const m of code.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec && !spec.startsWith(".") && !spec.startsWith("/")) found.add(spec);
  }
  return [...found];
}

function checkOne(name, tgz, versions, work) {
  const problems = [];
  const say = (m) => problems.push(`${name}: ${m}`);
  const pkgDir = untar(tgz, join(work, name));
  const files = walk(pkgDir);
  const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

  if (!files.includes("LICENSE")) say("no LICENSE in the tarball");
  if (JSON.stringify(manifest.exports ?? {}).includes('"development"')) say("the published exports keep the `development` condition");
  if (manifest.scripts?.prepack || manifest.scripts?.postpack) say("the published manifest keeps the pack scripts");
  const deps = { ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies };
  for (const [dep, range] of Object.entries(deps)) {
    if (!dep.startsWith("@utd-stream/")) continue;
    if (!/^[\^~]/.test(range)) say(`${dep} is pinned to "${range}"; use a range`);
    const sibling = versions[dep];
    if (sibling && range.replace(/^[\^~]/, "") !== sibling) say(`${dep}@${range} does not name the sibling version ${sibling}`);
  }

  // Every bare import of the built code must come from a declared dependency (or Node).
  for (const f of files.filter((x) => x.startsWith("dist/") && x.endsWith(".js") && !isGenerated(name, x))) {
    for (const spec of bareImports(readFileSync(join(pkgDir, f), "utf8"))) {
      if (BUILTINS.has(spec) || BUILTINS.has(packageOf(spec))) continue;
      if (!(packageOf(spec) in deps)) say(`${f} imports "${spec}", which is not a dependency`);
    }
  }

  // Source maps: every source they name is in the tarball.
  for (const f of files.filter((x) => x.endsWith(".map"))) {
    const map = JSON.parse(readFileSync(join(pkgDir, f), "utf8"));
    for (const s of map.sources ?? []) {
      const target = normalize(join(dirname(f), map.sourceRoot ?? "", s));
      if (!files.includes(target)) say(`${f} points at ${target}, which is not published`);
    }
  }

  // Stale build output: dist/x.js without src/x.ts (a renamed or deleted module still importable).
  for (const f of files.filter((x) => x.startsWith("dist/") && x.endsWith(".js") && !isGenerated(name, x))) {
    const src = f.replace(/^dist\//, "src/").replace(/\.js$/, ".ts");
    if (!files.includes(src)) say(`${f} has no source ${src} (stale build output: rebuild from a clean dist/)`);
  }

  // publint (strict: warnings are errors) and attw (ESM-only packages: CommonJS `require` is out of scope).
  const bin = (b) => join(ROOT, "node_modules", ".bin", b);
  try {
    const out = execFileSync(bin("publint"), ["run", tgz, "--strict", "--level", "suggestion"], { encoding: "utf8", stdio: "pipe" });
    if (/Suggestions:|Warnings:|Errors:/.test(out)) say(`publint:\n${out}`);
  } catch (err) {
    say(`publint failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
  try {
    execFileSync(bin("attw"), [tgz, "--profile", "esm-only", "--format", "ascii", "--no-color", "--no-emoji"], {
      encoding: "utf8",
      stdio: "pipe",
    });
  } catch (err) {
    say(`attw found problems:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  }
  return problems;
}

function isGenerated(name, file) {
  return (GENERATED_DIRS[`@utd-stream/${name}`] ?? []).some((d) => file.startsWith(d));
}

/** Packs and checks every published package; resolves to the list of problems (empty = publishable). */
export function checkPackages({ keep } = {}) {
  const work = keep ?? mkdtempSync(join(tmpdir(), "utd-pack-"));
  try {
    const versions = Object.fromEntries(
      PUBLISHED.map((n) => {
        const m = JSON.parse(readFileSync(join(ROOT, "packages", n, "package.json"), "utf8"));
        return [m.name, m.version];
      }),
    );
    for (const n of PUBLISHED) {
      if (!existsSync(join(ROOT, "packages", n, "dist"))) return [`${n}: not built (run \`npm run build\`)`];
    }
    const tarballs = packAll(join(work, "tarballs"));
    return PUBLISHED.flatMap((n) => checkOne(n, tarballs[n], versions, join(work, "unpacked")));
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--keep");
  const problems = checkPackages(i > 0 ? { keep: resolve(process.argv[i + 1]) } : {});
  if (problems.length > 0) {
    process.stderr.write(`${problems.join("\n")}\n\n${problems.length} packaging problem(s)\n`);
    process.exit(1);
  }
  process.stdout.write(`packages ok: ${PUBLISHED.join(", ")} (publint, attw, LICENSE, manifest, imports, source maps)\n`);
}
