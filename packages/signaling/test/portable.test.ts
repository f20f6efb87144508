import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("the SDK uses only fetch and WebSocket: no Node built-ins, no Node globals, no packages but the protocol", () => {
  const offenders: string[] = [];
  for (const f of files(SRC)) {
    const text = readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    for (const m of text.matchAll(/from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)|require\(/g)) {
      const spec = m[1] ?? m[2] ?? "require";
      if (!spec.startsWith(".") && spec !== "@utd-stream/protocol") offenders.push(`${f}: ${spec}`);
    }
    for (const g of ["Buffer", "process", "__dirname", "setImmediate"]) {
      if (new RegExp(`\\b${g}\\b`).test(text)) offenders.push(`${f}: ${g}`);
    }
  }
  expect(offenders).toEqual([]);
});

test("the package's tsconfig compiles without Node types", () => {
  const tsconfig = JSON.parse(readFileSync(join(SRC, "../tsconfig.json"), "utf8")) as {
    compilerOptions: { types?: string[]; lib?: string[] };
  };
  expect(tsconfig.compilerOptions.types).toEqual([]);
  expect(tsconfig.compilerOptions.lib).toEqual(["ES2023", "DOM"]);
});
