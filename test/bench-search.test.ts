import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

// A few-second smoke of bench/search (the figures come from a full run over 1M messages, never from
// here): it seeds, queries every kind on each reachable store, and prints p50/p99.
describe("bench/search (smoke)", () => {
  it("seeds a small table and prints query latency p50/p99 per store", async () => {
    const r = await promisify(execFile)(
      process.execPath,
      ["--conditions=development", "--import", "tsx", join(ROOT, "bench/search/run.ts")],
      {
        cwd: ROOT,
        env: { ...process.env, BENCH_MESSAGES: "3000", BENCH_CONVERSATIONS: "50", BENCH_READER_CONVERSATIONS: "20", BENCH_QUERIES: "3" },
        timeout: 120_000,
      },
    );
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^search: 3,000 messages in 50 conversations/);
    const sqlite = lines.find((l) => l.includes("SQLite FTS5 all queries"));
    expect(sqlite, r.stdout).toMatch(/p50 [\d.]+ ms {2}p99 [\d.]+ ms/);
    // PostgreSQL: a figure when reachable, a loud "skipped" otherwise.
    expect(lines.some((l) => l.includes("PostgreSQL GIN all queries") || l.startsWith("postgres: skipped"))).toBe(true);
  }, 150_000);
});
