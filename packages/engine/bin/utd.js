#!/usr/bin/env node
// The `utd` command. The compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from "node:fs";

const entry = new URL("../dist/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("utd: the engine is not built yet; run `npm run build` in the repository root.\n");
  process.exit(1);
}
await import(entry.href);
