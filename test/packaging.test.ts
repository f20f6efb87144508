import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const PUBLISHED = ["protocol", "engine", "signaling", "media", "widget"];
const run = promisify(execFile);

describe("published packages", () => {
  it("pass publint, attw and our tarball checks (LICENSE, manifest, dependencies, source maps)", async () => {
    // scripts/check-packages.mjs packs every package as `npm publish` would and exits 1 listing each problem.
    const r = await run(process.execPath, [join(ROOT, "scripts/check-packages.mjs")], { cwd: ROOT }).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    expect("stderr" in r ? r.stderr : "").toBe("");
    expect(r.stdout).toContain("packages ok");
  }, 120_000);

  it("leave the repository manifests as they were (development condition kept, no backup left)", () => {
    for (const p of PUBLISHED) {
      const dir = join(ROOT, "packages", p);
      const m = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, Record<string, string>> };
      expect(m.exports["."]?.development, p).toBe("./src/index.ts");
      expect(existsSync(join(dir, ".package.json.repo")), p).toBe(false);
    }
  });

  it("each carry the repository's LICENSE", () => {
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    for (const p of PUBLISHED) expect(readFileSync(join(ROOT, "packages", p, "LICENSE"), "utf8"), p).toBe(license);
  });
});
