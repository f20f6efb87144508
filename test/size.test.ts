import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const run = promisify(execFile);

interface Row {
  name: string;
  gzipped: number;
  budget: number;
  zod: boolean;
}

describe("SDK bundle sizes (bench/size)", () => {
  it("every entry point stays within its gzipped budget and none bundles zod", async () => {
    const r = await run(process.execPath, [join(ROOT, "bench/size/run.mjs"), "--json"], { cwd: ROOT });
    const rows = JSON.parse(r.stdout) as Row[];
    expect(rows.map((x) => x.name)).toHaveLength(4);
    for (const row of rows) {
      expect(row.zod, `${row.name} bundles zod`).toBe(false);
      expect(row.gzipped, `${row.name}: ${row.gzipped} bytes gzipped, budget ${row.budget}`).toBeLessThanOrEqual(row.budget);
    }
  }, 60_000);
});
