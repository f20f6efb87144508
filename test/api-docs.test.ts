import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const COMMITTED = join(ROOT, "docs/api");

/** Every file under `dir`, relative to it, with its text. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

/** Names called as methods (`.name(`) in the README's TypeScript/JavaScript blocks. */
function readmeCalls(): Set<string> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const names = new Set<string>();
  for (const block of readme.matchAll(/```(?:ts|typescript|tsx|js|mjs|javascript)\n([\s\S]*?)```/g)) {
    for (const m of (block[1] ?? "").matchAll(/\.(\w+)\(/g)) names.add(m[1] as string);
  }
  return names;
}

// Calls in the README that are not ours: the platform's and jose's (the signed-mode token example).
const NOT_OURS = new Set([
  "all",
  "catch",
  "encode",
  "log",
  "map",
  "stringify",
  "then",
  "setExpirationTime",
  "setProtectedHeader",
  "setSubject",
  "sign",
]);

describe("SDK reference (docs/api, TypeDoc)", () => {
  let out: string;
  let run: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "utd-api-docs-"));
    // typedoc.json treats validation warnings as errors: an exported symbol without a doc comment fails here.
    run = spawnSync(process.execPath, [join(ROOT, "node_modules/typedoc/bin/typedoc"), "--out", out], { cwd: ROOT, encoding: "utf8" });
  }, 300_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("builds with every public export documented (validation warnings are errors)", () => {
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  });

  it("is what TypeDoc renders from the sources (run `npm run docs:api` when this fails)", () => {
    const fresh = tree(out);
    const committed = tree(COMMITTED);
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [file, text] of fresh) expect(committed.get(file), file).toBe(text);
  });

  it("has every method the README calls", () => {
    const reference = [...tree(COMMITTED).values()].join("\n");
    const missing = [...readmeCalls()].filter((n) => !NOT_OURS.has(n) && !new RegExp(`^#+ ${n}\\(\\)$`, "m").test(reference));
    expect(missing).toEqual([]);
  });
});
